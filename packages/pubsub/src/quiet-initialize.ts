/** A generated (GAPIC) v1 client: `initialize()` builds its gRPC stub once, authenticating first. */
export interface Initializable {
  initialize(): Promise<unknown>;
}

/**
 * Stops a v1 client from ending the process when its stub cannot be built. Every generated
 * method starts with `this.initialize().catch((err) => { throw err; })` and drops that
 * promise: when the stub fails (credentials that cannot be loaded: a missing key file, no
 * Application Default Credentials) each call left one unhandled rejection behind, which ends a
 * Node process, although the call itself rejected with the same error and was handled.
 *
 * `initialize()` of the client resolves from then on, whatever the stub does; the failure still
 * reaches the caller through the call itself (the client's methods take the rejected stub, not
 * the value `initialize()` resolves). The adapter never calls `initialize()` itself.
 */
export function quietInitialize(client: Initializable): void {
  const initialize = client.initialize.bind(client);
  client.initialize = () =>
    initialize().then(
      (stub) => stub,
      () => undefined,
    );
}
