# Nimbus python runner (stdlib only, Python 3.8+): a pre-started process that loads one Lambda-style handler and serves invocations over fd 3 frames (PROTOCOL.md).
import os
import sys

# Why eager imports: the runner is pre-started in the pool before any function is assigned, so
# paying for these now (a few ms) keeps them off the cold-start path (load + first invoke).
import io
import json
import time
import threading
import traceback
import logging
import importlib
import resource

FD = 3
# Why a cap: logs travel inside the JSON frame header; a runaway print loop must not produce a
# header of hundreds of MB. 1 MiB per invocation is far above anything a human reads. The host
# keeps the same 1 MiB of what reaches it (MAX_LOG_BYTES in src/runtime/process/output-budget.ts).
MAX_LOG_BYTES = 1024 * 1024
RUNNER_FILE = os.path.abspath(__file__)

_write_lock = threading.Lock()

# Why: python puts the script's directory first on sys.path; the function must import from its
# task root and site-packages only, never from the runners directory.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(RUNNER_FILE):
    del sys.path[0]


# ---------------------------------------------------------------------------------------------
# Framing

def _write_all(data):
    view = memoryview(data)
    while view:
        n = os.write(FD, view)
        view = view[n:]


def send(header, body=b""):
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    frame = len(h).to_bytes(4, "big") + len(body).to_bytes(4, "big") + h
    with _write_lock:
        # Why two writes for big bodies: avoids copying a 6 MB body just to prepend 8+N bytes.
        if len(body) > 65536:
            _write_all(frame)
            _write_all(body)
        else:
            _write_all(frame + body)


def _read_exact(n):
    if n == 0:
        return b""
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(FD, min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def recv():
    """Next (header dict, body bytes), or None when the host closed fd 3."""
    prefix = _read_exact(8)
    if prefix is None:
        return None
    hlen = int.from_bytes(prefix[:4], "big")
    blen = int.from_bytes(prefix[4:], "big")
    header = _read_exact(hlen)
    body = _read_exact(blen)
    if header is None or body is None:
        return None
    return json.loads(header.decode("utf-8")), body


# ---------------------------------------------------------------------------------------------
# Output capture

class _Capture(object):
    """Collects everything written through sys.stdout/sys.stderr/logging.

    While an invocation (or the load) is in flight, text goes to a buffer returned in the
    result; while idle (e.g. a background thread printing), it is forwarded as a `log` frame.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.parts = None
        self.size = 0
        self.dropped = 0
        # UTF-8 bytes the last stop()ped capture dropped (the result frame's droppedBytes).
        self.last_dropped = 0

    def start(self):
        with self.lock:
            self.parts = []
            self.size = 0
            self.dropped = 0

    def stop(self):
        with self.lock:
            parts, dropped = self.parts or [], self.dropped
            self.parts = None
            self.last_dropped = dropped
        text = "".join(parts)
        if dropped:
            text += "\n[nimbus: %d more bytes of log output were truncated]\n" % dropped
        return text

    def write(self, text):
        if not text:
            return
        with self.lock:
            if self.parts is not None:
                if self.size + len(text) > MAX_LOG_BYTES:
                    keep = max(0, MAX_LOG_BYTES - self.size)
                    self.dropped += len(text[keep:].encode("utf-8", "replace"))
                    text = text[:keep]
                self.parts.append(text)
                self.size += len(text)
                return
        try:
            send({"t": "log", "data": text})
        except OSError:
            pass


_capture = _Capture()


class _BinaryStream(io.RawIOBase):
    """`sys.stdout.buffer` stand-in so code writing bytes is captured too."""

    def __init__(self, fileno):
        self._fileno = fileno

    def writable(self):
        return True

    def write(self, b):
        _capture.write(bytes(b).decode("utf-8", "replace"))
        return len(b)

    def fileno(self):
        return self._fileno


class _TextStream(io.TextIOBase):
    def __init__(self, name, fileno):
        self._name = name
        self._fileno = fileno
        self._buffer = _BinaryStream(fileno)

    @property
    def name(self):
        return self._name

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    @property
    def buffer(self):
        return self._buffer

    def writable(self):
        return True

    def isatty(self):
        return False

    # Why the real fd: libraries that hand sys.stdout.fileno() to a subprocess or faulthandler
    # write to the real fd 1/2, which the host attributes to the invocation in flight.
    def fileno(self):
        return self._fileno

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not %s" % type(s).__name__)
        _capture.write(s)
        return len(s)

    def flush(self):
        pass


sys.stdout = sys.__stdout__ = _TextStream("<stdout>", 1)
sys.stderr = sys.__stderr__ = _TextStream("<stderr>", 2)


# ---------------------------------------------------------------------------------------------
# Lambda logging format

_current_request_id = ""


class _LambdaFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self):
        logging.Formatter.__init__(
            self, "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S")

    def format(self, record):
        record.aws_request_id = _current_request_id
        return logging.Formatter.format(self, record)


class _LambdaHandler(logging.Handler):
    def emit(self, record):
        try:
            _capture.write(self.format(record))
        except Exception:
            self.handleError(record)


def _setup_logging():
    handler = _LambdaHandler()
    handler.setFormatter(_LambdaFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    # Why WARNING by default: that is Lambda's behaviour (functions call setLevel(INFO)); the
    # AWS_LAMBDA_LOG_LEVEL advanced-logging variable overrides it as on Lambda.
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"):
        root.setLevel({"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))


# ---------------------------------------------------------------------------------------------
# Context

class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __init__(self, identity_id=None, pool_id=None):
        self.cognito_identity_id = identity_id
        self.cognito_identity_pool_id = pool_id


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]

    def __init__(self, d):
        self.installation_id = d.get("installation_id")
        self.app_title = d.get("app_title")
        self.app_version_name = d.get("app_version_name")
        self.app_version_code = d.get("app_version_code")
        self.app_package_name = d.get("app_package_name")


class ClientContext(object):
    __slots__ = ["client", "custom", "env"]

    def __init__(self, d):
        client = d.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = d.get("custom")
        self.env = d.get("env")


def _parse_client_context(b64):
    if not b64:
        return None
    try:
        import base64
        data = json.loads(base64.b64decode(b64).decode("utf-8"))
    except Exception:
        return None
    return ClientContext(data) if isinstance(data, dict) else None


class LambdaContext(object):
    def __init__(self, cfg, request_id, deadline_ms, client_context):
        self.aws_request_id = request_id
        self.function_name = cfg.get("functionName", "")
        self.function_version = cfg.get("functionVersion", "$LATEST")
        self.memory_limit_in_mb = str(cfg.get("memoryMB", ""))
        self.invoked_function_arn = cfg.get("invokedFunctionArn", "")
        self.log_group_name = cfg.get("logGroupName", "")
        self.log_stream_name = cfg.get("logStreamName", "")
        self.client_context = client_context
        self.identity = CognitoIdentity()
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, msg):
        _capture.write(str(msg))

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,function_version=%s])" % (
            self.aws_request_id, self.function_name, self.function_version)


# ---------------------------------------------------------------------------------------------
# Errors

def _trace(tb):
    # Why: Lambda strips its own bootstrap frames so the trace starts in user code; importlib's
    # frozen frames only add noise to import errors.
    frames = [f for f in traceback.extract_tb(tb)
              if not f.filename.startswith("<frozen") and os.path.abspath(f.filename) != RUNNER_FILE]
    return traceback.format_list(frames)


def _error(error_type, message, tb=None):
    err = {"errorType": error_type, "errorMessage": message}
    err["trace"] = _trace(tb) if tb is not None else []
    return err


def _exc_error(e, error_type=None):
    return _error(error_type or type(e).__name__, str(e), e.__traceback__)


def _max_rss_mb():
    # ru_maxrss is KB on Linux (bytes on macOS; the sandbox is Linux-only).
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _json_default(o):
    # Lambda's python runtime serialises Decimal (e.g. from DynamoDB) as float instead of failing.
    if type(o).__name__ == "Decimal":
        return float(o)
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


# ---------------------------------------------------------------------------------------------
# Load and invoke

def _exit_message(e):
    code = e.code
    if code is None:
        code = 0
    elif not isinstance(code, int):
        # sys.exit("message") prints the message and exits 1.
        _capture.write(str(code) + "\n")
        code = 1
    return code, "Runtime exited with error: exit status %d" % code


def load(cfg):
    """Returns (handler function or None, error dict or None, exit code or None)."""
    env = cfg.get("env") or {}
    os.environ.update({str(k): str(v) for k, v in env.items()})
    task_root = cfg.get("taskRoot") or os.getcwd()
    handler_name = cfg.get("handler", "")
    # Lambda's reserved variables, from the load fields when the host did not put them in env.
    region = cfg.get("region")
    for key, value in (("LAMBDA_TASK_ROOT", task_root), ("_HANDLER", handler_name),
                       ("AWS_LAMBDA_FUNCTION_NAME", cfg.get("functionName")),
                       ("AWS_LAMBDA_FUNCTION_VERSION", cfg.get("functionVersion")),
                       ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", cfg.get("memoryMB")),
                       ("AWS_LAMBDA_LOG_GROUP_NAME", cfg.get("logGroupName")),
                       ("AWS_LAMBDA_LOG_STREAM_NAME", cfg.get("logStreamName")),
                       ("AWS_REGION", region), ("AWS_DEFAULT_REGION", region)):
        if value is not None and value != "":
            os.environ.setdefault(key, str(value))
    if "TZ" in env:
        time.tzset()  # Why: TZ set after interpreter start only takes effect after tzset().
    _setup_logging()
    sys.path.insert(0, task_root)
    try:
        # Why: Lambda functions open bundled files by relative path; Lambda's cwd is the task root.
        os.chdir(task_root)
    except OSError:
        pass

    if "." not in handler_name:
        return None, _error("Runtime.MalformedHandlerName",
                            "Bad handler '%s': not enough values to unpack (expected 2, got 1)" % handler_name), None
    modname, func_name = handler_name.rsplit(".", 1)
    # Lambda's rule: `src/app.handler` imports module `src.app` (a namespace package works).
    modname = modname.replace("/", ".")
    try:
        module = importlib.import_module(modname)
    except SyntaxError as e:
        err = _error("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (modname, e))
        # Lambda's shape: the offending file, line and source text rather than importlib frames.
        err["trace"] = ['  File "%s" Line %s\n        %s\n' % (e.filename, e.lineno, (e.text or "").strip())]
        return None, err, None
    except ImportError as e:
        return None, _error("Runtime.ImportModuleError",
                            "Unable to import module '%s': %s" % (modname, e), e.__traceback__), None
    except SystemExit as e:
        code, msg = _exit_message(e)
        return None, _error("Runtime.ExitError", msg), code
    except Exception as e:
        return None, _exc_error(e), None
    fn = getattr(module, func_name, None)
    if fn is None or not callable(fn):
        return None, _error("Runtime.HandlerNotFound",
                            "Handler '%s' missing on module '%s'" % (func_name, modname)), None
    return fn, None, None


def invoke(cfg, fn, header, body):
    """Runs one invocation; returns (result header, body bytes, exit code or None)."""
    global _current_request_id
    request_id = header.get("id", "")
    _current_request_id = request_id
    trace_id = header.get("traceId")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    out = {"t": "result", "id": request_id}
    payload = b""
    exit_code = None
    error = None
    _capture.start()
    try:
        try:
            event = json.loads(body) if body else None
        except ValueError as e:
            error = _error("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)
        else:
            ctx = LambdaContext(cfg, request_id, header.get("deadlineMs") or time.time() * 1000 + 900000,
                                _parse_client_context(header.get("clientContext")))
            try:
                result = fn(event, ctx)
            except SystemExit as e:
                exit_code, msg = _exit_message(e)
                error = _error("Runtime.ExitError", msg)
            except Exception as e:
                error = _exc_error(e)
                # Lambda prints the error record to the log as well.
                _capture.write("[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (
                    error["errorType"], error["errorMessage"], "".join(error["trace"])))
            else:
                try:
                    payload = json.dumps(result, default=_json_default).encode("utf-8")
                except (TypeError, ValueError) as e:
                    error = _error("Runtime.MarshalError", "Unable to marshal response: %s" % e)
    finally:
        logs = _capture.stop()
        _current_request_id = ""
    if error is not None:
        out["ok"] = False
        out["error"] = error
        payload = b""
    else:
        out["ok"] = True
    out["logs"] = logs
    out["maxRssMB"] = _max_rss_mb()
    out["droppedBytes"] = _capture.last_dropped
    return out, payload, exit_code


def main():
    try:
        os.set_blocking(FD, True)
        # Why: keep the host channel out of processes the function spawns (os.system, exec*).
        os.set_inheritable(FD, False)
    except OSError:
        os.write(2, b"nimbus python runner: fd 3 is not open\n")
        return 2
    send({"t": "ready", "pid": os.getpid()})
    cfg = None
    fn = None
    while True:
        msg = recv()
        if msg is None:
            return 0  # Host closed fd 3: nothing left to do.
        header, body = msg
        kind = header.get("t")
        if kind == "load":
            if cfg is not None:
                send({"t": "load-error", "error": _error("Runtime.InvalidState", "runner already loaded"), "logs": ""})
                continue
            cfg = header
            started = time.perf_counter()
            _capture.start()
            try:
                fn, err, exit_code = load(cfg)
            finally:
                logs = _capture.stop()
            if err is not None:
                # Lambda logs the init error record too.
                logs += "[ERROR] %s: %s\nTraceback (most recent call last):\n%s" % (
                    err["errorType"], err["errorMessage"], "".join(err["trace"]))
                send({"t": "load-error", "error": err, "logs": logs})
                if exit_code is not None:
                    return exit_code
                # Why stay alive: exiting could race the host reading the frame; the host
                # disposes of the runner (closing fd 3 ends this loop).
                continue
            # Init output is sent as a `log` frame so the host can put it in the log stream.
            if logs:
                send({"t": "log", "data": logs})
            send({"t": "loaded", "initMs": round((time.perf_counter() - started) * 1000, 3)})
        elif kind == "invoke":
            if fn is None:
                send({"t": "result", "id": header.get("id", ""), "ok": False,
                      "error": _error("Runtime.InvalidState", "no function loaded in this runner"),
                      "logs": "", "maxRssMB": _max_rss_mb()})
                continue
            out, payload, exit_code = invoke(cfg, fn, header, body)
            send(out, payload)
            if exit_code is not None:
                return exit_code
        # Unknown message types are ignored so the host can add optional messages later.


if __name__ == "__main__":
    try:
        code = main()
    except (BrokenPipeError, ConnectionResetError):
        code = 0  # The host went away mid-write.
    except BaseException:
        os.write(2, ("nimbus python runner crashed:\n" + traceback.format_exc()).encode("utf-8", "replace"))
        code = 70
    # Why os._exit: skip interpreter teardown (atexit of user code, non-daemon threads the
    # handler may have started) that could hang a runner the host is trying to retire.
    os._exit(code or 0)
