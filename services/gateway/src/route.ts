/** Which upstream serves a path: the offer-set API or the execution API. */
export type Upstream = 'offersets' | 'executions';

export function routeFor(path: string): Upstream | undefined {
  if (/^\/(offersets|requests|direct|openapi\.(json|yaml))(\/|$|\?)/.test(path)) return 'offersets';
  if (/^\/(executions|sessions)(\/|$|\?)/.test(path)) return 'executions';
  return undefined;
}
