import type { MessageItem, Problem } from './types.js';

/** An HTTP error from the broker, carrying its RFC 9457 problem document. */
export class BrokerError extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(`${status} ${problem.title ?? 'error'}${problem.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'BrokerError';
  }
}

/** The broker understood the request but made no offer (result NO); its messages say why. */
export class NoOffersError extends Error {
  constructor(readonly offerSetUuid: string | undefined, readonly messages: MessageItem[]) {
    super(`no offers: ${messages.map((m) => m.message ?? m.template).join('; ') || 'no reason given'}`);
    this.name = 'NoOffersError';
  }
}

export class WaitTimeoutError extends Error {
  constructor(readonly uuid: string, readonly lastPhase: string | undefined) {
    super(`execution ${uuid} did not reach the awaited phase in time (last seen ${lastPhase ?? 'nothing'})`);
    this.name = 'WaitTimeoutError';
  }
}
