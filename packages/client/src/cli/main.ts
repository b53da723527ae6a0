import { parseArgs } from 'node:util';
import { BrokerClient } from '../client.js';
import { BrokerError, NoOffersError, WaitTimeoutError } from '../errors.js';
import type { Execution } from '../types.js';
import { executionText, messagesText, offerSetText } from './format.js';
import { readRequestText } from './request-file.js';
import { watch } from './watch.js';
import { printLogs } from './logs.js';
import { runLoad, summaryTable } from './load.js';

const USAGE = `usage: eb [--url URL] [--token TOKEN] [--json] <command> [args]
  offers <request.yaml|json|->   ask for offers and list them
  accept <uuid>                  accept an offer
  reject <uuid>                  reject an offer
  get <uuid>                     show an execution
  cancel <uuid>                  cancel an execution
  watch <uuid> [--timeout S]     follow an execution to its end (exit 1 unless COMPLETED)
  logs <uuid> [--stderr] [--no-follow] [--timeout S]
                                 print what the executable printed, and what it prints next until it ends
  run <request> [--timeout S]    ask for offers, accept the first, follow it to its end
  load <request> [--count N] [--concurrency C] [--timeout S]
                                 run N executions, C at a time, and print a summary
The base URL and token come from --url/--token or EB_URL/EB_TOKEN.`;

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The `eb` command line. Returns the exit code. */
export async function main(argv: string[], out = process.stdout, err = process.stderr): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true,
      options: {
        url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
        timeout: { type: 'string' }, count: { type: 'string' }, concurrency: { type: 'string' },
        stderr: { type: 'boolean' }, 'no-follow': { type: 'boolean' },
      },
    });
  } catch (e) {
    err.write(`${(e as Error).message}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { values: o, positionals: [command, arg] } = parsed;
  if (o.help || !command) { out.write(`${USAGE}\n`); return o.help ? EXIT.ok : EXIT.usage; }
  const baseUrl = o.url ?? process.env.EB_URL;
  if (!baseUrl) { err.write('eb: no broker URL (give --url or set EB_URL)\n'); return EXIT.usage; }
  const token = o.token ?? process.env.EB_TOKEN;
  const client = new BrokerClient({ baseUrl, ...(token ? { token } : {}) });
  const timeoutMs = Number(o.timeout ?? 600) * 1000;
  const needArg = (what: string) => { if (!arg) throw new UsageError(`${command} needs ${what}`); return arg; };
  const show = (e: Execution) => out.write(`${o.json ? JSON.stringify(e, null, 2) : executionText(e)}\n`);
  const finalCode = (e: Execution) => (e.phase === 'COMPLETED' ? EXIT.ok : EXIT.failed);

  try {
    switch (command) {
      case 'offers': {
        const set = await client.requestOffers(readRequestText(needArg('a request file')));
        out.write(`${o.json ? JSON.stringify(set, null, 2) : offerSetText(set)}\n`);
        return set.result === 'YES' ? EXIT.ok : EXIT.failed;
      }
      case 'accept': show(await client.accept(needArg('an offer uuid'))); return EXIT.ok;
      case 'reject': show(await client.reject(needArg('an offer uuid'))); return EXIT.ok;
      case 'cancel': show(await client.cancel(needArg('an execution uuid'))); return EXIT.ok;
      case 'get': show(await client.get(needArg('an execution uuid'))); return EXIT.ok;
      case 'watch': {
        const e = await watch(client, needArg('an execution uuid'), out, timeoutMs);
        show(e);
        return finalCode(e);
      }
      case 'logs':
        await printLogs(client, needArg('an execution uuid'), out, err, {
          stream: o.stderr ? 'stderr' : 'stdout', follow: !o['no-follow'], timeoutMs,
        });
        return EXIT.ok;
      case 'run': {
        const set = await client.requestOffers(readRequestText(needArg('a request file')));
        const offer = client.pickOffer(set);
        out.write(`accepting ${offer.meta?.uuid}\n`);
        await client.accept(offer.meta!.uuid!);
        const e = await watch(client, offer.meta!.uuid!, out, timeoutMs);
        show(e);
        return finalCode(e);
      }
      case 'load': {
        const count = Number(o.count ?? 100);
        const concurrency = Number(o.concurrency ?? 10);
        if (!Number.isInteger(count) || count < 1 || !Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--count and --concurrency take whole numbers');
        const summary = await runLoad(client, readRequestText(needArg('a request file')), count, concurrency, timeoutMs);
        out.write(`${o.json ? JSON.stringify(summary) : summaryTable(summary)}\n`);
        return summary.errors === 0 ? EXIT.ok : EXIT.failed;
      }
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) { err.write(`eb: ${e.message}\n${USAGE}\n`); return EXIT.usage; }
    if (e instanceof NoOffersError) { err.write(`eb: no offers\n${messagesText(e.messages).join('\n')}\n`); return EXIT.failed; }
    if (e instanceof BrokerError) {
      err.write(`eb: ${e.message}\n`);
      for (const f of (e.problem as { errors?: { pointer: string; message: string }[] }).errors ?? []) err.write(`  ${f.pointer} ${f.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof WaitTimeoutError) { err.write(`eb: ${e.message}\n`); return EXIT.failed; }
    err.write(`eb: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
}

class UsageError extends Error {}
