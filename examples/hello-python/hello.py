"""A Lambda-style Python handler."""
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    name = (event or {}).get("name", "world")
    logger.info("greeting %s", name)
    return {
        "message": f"Hello, {name}!",
        "requestId": context.aws_request_id,
        "remainingMs": context.get_remaining_time_in_millis(),
    }
