import type { MessageItem, DataResource } from '@eb/schema';
import type { EgressPolicy } from '@eb/core';
import type { ComponentRow } from '@eb/db';
import type { DataSources } from './sources.js';

export interface Checksum {
  type: string;
  value: string;
}

/** One file to fetch: where from, what to call it, and what it must be. */
export interface FetchItem {
  url: string;
  /** The URL as shown in messages (without query strings that carry signatures). */
  shownUrl: string;
  /** Other replicas of the same file, next best first: a failed attempt moves on to the next. */
  alternatives?: { url: string; headers?: Record<string, string> }[];
  /** Sent with the request (authorization); never shown, logged or followed across origins. */
  headers?: Record<string, string>;
  /** A safe file name (see safeFileName), unique within the plan. */
  file: string;
  /** Expected size in bytes, when the data service says. */
  size?: number;
  /** Every checksum the data service gives; each is verified where the stager can compute it. */
  checksums: Checksum[];
}

/**
 * What a data resource turns into before anything is downloaded: the files, where to get them and
 * what they must be. Made by the worker (which talks to the data services under the egress policy),
 * then executed by each platform's stager: the Docker stager streams each item into the storage
 * directory; the Kubernetes staging Job fetches them inside the cluster.
 */
export interface FetchPlan {
  /** The data source the history of transfer times is kept under (see offers' preparation time). */
  source: string;
  items: FetchItem[];
  /** What resolving found (replica chosen, DataLink row, rule made), shown on the data component. */
  messages: MessageItem[];
}

/** What a data kind needs to make its plan. */
export interface PlanContext {
  component: ComponentRow;
  policy: EgressPolicy;
  sources: DataSources;
  signal?: AbortSignal;
  /** The owner's kept token (for services configured to act as the owner). */
  ownerToken(): Promise<string | undefined>;
}

/** A data resource the plan cannot be made for, for a reason asking again will not cure. */
export class PlanRefused extends Error {
  /** What was found on the way (replicas refused...), shown with the reason. */
  constructor(msg: string, readonly messages: MessageItem[] = []) { super(msg); }
}

export interface DataKind {
  readonly kind: string;
  /** Whether the configured sources let this kind be staged (S3, Rucio, SKAO need a configured service). */
  available(sources: DataSources): boolean;
  plan(spec: DataResource, ctx: PlanContext): Promise<FetchPlan>;
}
