import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { checkUrlStatically, resolveForFetch, type EgressPolicy } from '@eb/core';

/**
 * An HTTP handler for the AWS SDK that may only reach one checked endpoint: its URL is checked under
 * the egress policy, its host resolved and checked, and every connection goes to that address (a later
 * DNS answer cannot move it). A request the SDK makes anywhere else is refused by the same policy
 * when the address differs from the pinned host.
 */
export async function pinnedHandler(policy: EgressPolicy, endpoint: string, signal?: AbortSignal): Promise<NodeHttpHandler> {
  const url = checkUrlStatically(policy, endpoint);
  const target = await resolveForFetch(policy, url);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const lookup: LookupFunction = (name, options, cb) => {
    if (name.toLowerCase() !== host) {
      (cb as (e: Error) => void)(new Error(`the S3 client may only reach ${host}, not ${name}`));
      return;
    }
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else cb(null, target.address, target.family);
  };
  signal?.throwIfAborted();
  return new NodeHttpHandler({
    httpAgent: new HttpAgent({ lookup } as ConstructorParameters<typeof HttpAgent>[0]),
    httpsAgent: new HttpsAgent({ lookup } as ConstructorParameters<typeof HttpsAgent>[0]),
    connectionTimeout: 10_000,
    requestTimeout: 30_000,
  });
}
