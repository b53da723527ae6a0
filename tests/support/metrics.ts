/**
 * How many requests a service answered for `method` and `route`, from its Prometheus text
 * (`eb_http_request_duration_seconds_count`, summed over statuses).
 */
export function requestCount(metricsText: string, method: string, route: string): number {
  return metricsText.split('\n')
    .filter((line) => line.startsWith('eb_http_request_duration_seconds_count{'))
    .filter((line) => line.includes(`method="${method}"`) && line.includes(`route="${route}"`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
