/** Node/OpenSSL error codes of a TLS handshake that cannot succeed however often it is tried. */
const TLS_CODE =
  /^(EPROTO$|ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET|VERIFY)_)/;
/** The same failures where only a message tells them (an SDK that copied the text, not the code). */
const TLS_TEXT =
  /\bEPROTO\b|wrong version number|self[- ]signed certificate|unable to verify the first certificate|certificate has expired|altnames/i;

/**
 * The TLS failure behind `error`, or undefined: a TLS or certificate `code` along its `cause`
 * chain (to depth 5), else `"TLS"` for a telltale message (`wrong version number`: https
 * against a plain-text port). Such a failure is a configuration error (protocol, certificate,
 * host name), not an outage. Pure; never throws.
 */
export function tlsFailureCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; typeof current === 'object' && current !== null && depth <= 5; depth++) {
    const e = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && TLS_CODE.test(e.code)) return e.code;
    if (typeof e.message === 'string' && TLS_TEXT.test(e.message)) return 'TLS';
    current = e.cause;
  }
  return undefined;
}
