// The egress policy for webhook targets: which addresses the server may POST to. Loopback,
// private, link-local (cloud metadata), multicast and other special ranges are denied unless the
// operator allows them; names are checked after DNS resolution, on the address actually dialled.

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { NimbusError } from '../../errors.js';

/** An address range the policy denies by default, and what it is. */
export interface DeniedRange {
  readonly cidr: string;
  readonly what: string;
}

/**
 * Denied unless allowed. Why each: a webhook is a request the server makes on a tenant's behalf,
 * so anything only the server's host can reach (its loopback, its LAN, the cloud's metadata
 * service that hands out instance credentials) would turn topics into a proxy and port scanner.
 * IPv4-mapped IPv6 forms (`::ffff:127.0.0.1`) match the IPv4 ranges; NAT64 and 6to4 addresses
 * are judged by the IPv4 address they embed.
 */
export const DENIED_RANGES: readonly DeniedRange[] = [
  { cidr: '127.0.0.0/8', what: 'loopback' },
  { cidr: '169.254.0.0/16', what: 'link-local, incl. the cloud metadata service 169.254.169.254' },
  { cidr: '10.0.0.0/8', what: 'private' },
  { cidr: '172.16.0.0/12', what: 'private' },
  { cidr: '192.168.0.0/16', what: 'private' },
  { cidr: '100.64.0.0/10', what: 'carrier-grade NAT, incl. the metadata service 100.100.100.200' },
  { cidr: '0.0.0.0/8', what: '"this network" (0.0.0.0 reaches the local host)' },
  { cidr: '192.0.0.0/24', what: 'IETF protocol assignments, incl. the metadata service 192.0.0.192' },
  { cidr: '198.18.0.0/15', what: 'benchmarking' },
  { cidr: '224.0.0.0/4', what: 'multicast' },
  { cidr: '240.0.0.0/4', what: 'reserved and broadcast' },
  { cidr: '::1/128', what: 'loopback' },
  { cidr: '::/128', what: 'unspecified (reaches the local host)' },
  { cidr: '::/96', what: 'IPv4-compatible' },
  { cidr: 'fe80::/10', what: 'link-local' },
  { cidr: 'fc00::/7', what: 'unique local, incl. the metadata service fd00:ec2::254' },
  { cidr: 'fec0::/10', what: 'site-local' },
  { cidr: 'ff00::/8', what: 'multicast' },
  { cidr: '100::/64', what: 'discard' },
  { cidr: '64:ff9b:1::/48', what: 'local-use NAT64' },
  { cidr: '2001::/32', what: 'Teredo' },
];

/** Prefixes that carry an IPv4 address, judged by it: NAT64 (last 32 bits) and 6to4 (bits 16-48). */
const EMBEDDING: ReadonlyArray<{ cidr: string; at: number }> = [
  { cidr: '64:ff9b::/96', at: 12 },
  { cidr: '2002::/16', at: 2 },
];

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

function subnet(cidr: string): BlockList {
  const [net, bits] = cidr.split('/') as [string, string];
  const list = new BlockList();
  list.addSubnet(net, Number(bits), familyOf(net));
  return list;
}

const DENIED = DENIED_RANGES.map((r) => ({ ...r, list: subnet(r.cidr) }));
const EMBEDDED = EMBEDDING.map((e) => ({ ...e, list: subnet(e.cidr) }));

/** The 16 bytes of an IPv6 address (`isIP(address) === 6`, no zone). */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...dotted[1]!.split('.').map(Number));
    text = text.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, rest] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const left = words(head);
  const right = rest === undefined ? [] : words(rest);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** `address` without brackets or an IPv6 zone (`fe80::1%eth0`), lower case. */
function bare(address: string): string {
  const unbracketed = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const zone = unbracketed.indexOf('%');
  return (zone < 0 ? unbracketed : unbracketed.slice(0, zone)).toLowerCase();
}

/** What the default deny list says of an IP address: the range it falls in, or undefined. */
export function deniedRangeOf(address: string): DeniedRange | undefined {
  const ip = bare(address);
  const family = familyOf(ip);
  if (isIP(ip) === 0) return { cidr: ip, what: 'not an IP address' };
  if (family === 'ipv6') {
    for (const e of EMBEDDED) {
      if (e.list.check(ip, 'ipv6')) {
        const v4 = ipv6Bytes(ip)
          .slice(e.at, e.at + 4)
          .join('.');
        const inner = deniedRangeOf(v4);
        return inner === undefined ? undefined : { cidr: e.cidr, what: `${inner.what}, embedded as ${v4}` };
      }
    }
  }
  return DENIED.find((r) => r.list.check(ip, family));
}

/** How the policy resolves names (dns.lookup with `all: true`); replaceable in tests. */
export type EgressResolver = (hostname: string) => Promise<readonly LookupAddress[]>;

const systemResolver: EgressResolver = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

/** Options of an {@link EgressPolicy}. */
export interface EgressPolicyOptions {
  /**
   * Allowed despite the deny list: CIDRs (`10.1.0.0/16`), addresses (`127.0.0.1`, `::1`) or host
   * names (`hooks.internal`, allowed whatever they resolve to). @default []
   */
  readonly allow?: readonly string[];
  /** Name resolution. @default dns.lookup (the system resolver, as any connection uses) */
  readonly resolve?: EgressResolver;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;

/**
 * Reads an allow-list (`--webhook-allow`, `webhookAllow`) into CIDRs and host names.
 * @throws NimbusError `InvalidConfigError` naming the bad entry.
 */
export function parseEgressAllowList(entries: readonly string[]): { cidrs: BlockList; hosts: Set<string> } {
  const cidrs = new BlockList();
  const hosts = new Set<string>();
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase().replace(/\.$/, '');
    const slash = entry.indexOf('/');
    const address = bare(slash < 0 ? entry : entry.slice(0, slash));
    const family = isIP(address);
    if (family !== 0) {
      const max = family === 4 ? 32 : 128;
      const bits = slash < 0 ? max : Number(entry.slice(slash + 1));
      if (
        !Number.isInteger(bits) ||
        bits < 0 ||
        bits > max ||
        (slash >= 0 && !/^\d+$/.test(entry.slice(slash + 1)))
      ) {
        throw badAllow(raw, `the prefix length must be a whole number from 0 to ${max}`);
      }
      cidrs.addSubnet(address, bits, family === 4 ? 'ipv4' : 'ipv6');
    } else if (slash < 0 && HOST_NAME.test(entry)) {
      hosts.add(entry);
    } else {
      throw badAllow(raw, 'give a CIDR (10.1.0.0/16), an address (127.0.0.1, ::1) or a host name');
    }
  }
  return { cidrs, hosts };
}

function badAllow(entry: string, why: string): NimbusError {
  return new NimbusError('InvalidConfigError', `--webhook-allow '${entry}': ${why}.`);
}

/**
 * Decides whether the server may send a webhook to an address, and resolves names for the
 * connection itself ({@link EgressPolicy.lookup}), so the address checked is the address dialled:
 * a name that resolves to a public address when checked and to 127.0.0.1 when connecting (DNS
 * rebinding) cannot slip through.
 */
export class EgressPolicy {
  readonly #cidrs: BlockList;
  readonly #hosts: ReadonlySet<string>;
  readonly #resolve: EgressResolver;

  constructor(options: EgressPolicyOptions = {}) {
    const { cidrs, hosts } = parseEgressAllowList(options.allow ?? []);
    this.#cidrs = cidrs;
    this.#hosts = hosts;
    this.#resolve = options.resolve ?? systemResolver;
  }

  /** The refusal for sending to `address` (reached as `hostname`), or undefined when allowed. */
  deny(hostname: string, address: string): NimbusError | undefined {
    const host = bare(hostname).replace(/\.$/, '');
    if (this.#hosts.has(host)) return undefined;
    const ip = bare(address);
    if (isIP(ip) !== 0 && this.#cidrs.check(ip, familyOf(ip))) return undefined;
    const range = deniedRangeOf(ip);
    if (range === undefined) return undefined;
    const shown = host === ip ? ip : `${host} (${ip})`;
    return new NimbusError(
      'WebhookTargetDeniedException',
      `Webhook target ${shown} is ${range.what} (${range.cidr}), which the egress policy denies; ` +
        `if this server should reach it, start it with --webhook-allow ${isIP(host) !== 0 ? ip : host} ` +
        `(or webhookAllow in the server options). See docs/security.md.`,
    );
  }

  /**
   * Checks a URL before any connection: an address literal directly, a name by resolving it now.
   * A name that does not resolve passes (the delivery checks again when it connects).
   * @throws NimbusError `WebhookTargetDeniedException`
   */
  async check(url: URL): Promise<void> {
    const host = bare(url.hostname);
    const literal = this.literal(url);
    if (literal !== 'name') {
      if (literal !== undefined) throw literal;
      return;
    }
    if (this.#hosts.has(host.replace(/\.$/, ''))) return;
    let addresses: readonly LookupAddress[];
    try {
      addresses = await this.#resolve(host);
    } catch {
      return;
    }
    for (const a of addresses) {
      const denied = this.deny(host, a.address);
      if (denied !== undefined) throw denied;
    }
  }

  /** For an address-literal URL, its refusal or undefined; `'name'` when the host is a name. */
  literal(url: URL): NimbusError | undefined | 'name' {
    const host = bare(url.hostname);
    return isIP(host) === 0 ? 'name' : this.deny(host, host);
  }

  /**
   * A `lookup` for `http.request`: resolves the name, refuses the connection (error code
   * `WebhookTargetDeniedException`) if any address is denied, and otherwise hands those very
   * addresses to the socket. Node calls it only for names; check literals with {@link literal}.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const done = callback as unknown as (
      err: Error | null,
      address?: string | LookupAddress[],
      family?: number,
    ) => void;
    this.#resolve(hostname).then(
      (addresses) => {
        for (const a of addresses) {
          const denied = this.deny(hostname, a.address);
          if (denied !== undefined) return done(denied);
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
        const usable = addresses.filter((a) => wanted === undefined || a.family === wanted);
        if (usable.length === 0) {
          const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
          return done(err);
        }
        if ((options as { all?: boolean }).all) return done(null, [...usable]);
        return done(null, usable[0]!.address, usable[0]!.family);
      },
      (err: Error) => done(err),
    );
  };
}
