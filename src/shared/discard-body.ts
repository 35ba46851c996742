/**
 * Lets go of a response body that will not be read, without waiting for it. Awaiting `body.cancel()` is not
 * bounded: a body that is still streaming can wait on the peer, and a teed body (msw tees every response it
 * passes through) settles its cancel only once both branches are cancelled, which never happens. An awaited
 * cancel in the local platform's readiness probe left a model deployment `pending` for good, about one run in
 * ten of the lab's contract test.
 */
export function discardBody(response: Response): void {
  void response.body?.cancel().catch(() => undefined);
}
