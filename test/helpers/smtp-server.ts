// A real SMTP server for the delivery tests (the `smtp-server` package on a free loopback port, plain text, no
// auth): it keeps every message it accepted, raw and as `mailparser` reads it, and can be told to refuse DATA with
// a reply of the test's choosing (421, 550, …). Tests wait on arrivals as events, never on the clock.
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

/** One message the server accepted. */
export interface Arrival {
  readonly raw: Buffer;
  readonly mail: ParsedMail;
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** Whether the session had been upgraded with STARTTLS when the message came. */
  readonly secure: boolean;
  /** performance.now() when its DATA began. */
  readonly at: number;
}

/** A refusal of a message's DATA: the reply code and text the client gets. */
export interface Refusal {
  readonly code: number;
  readonly text: string;
}

export interface TestSmtpServer {
  readonly port: number;
  /** The MMS_SMTP_URL that reaches it (plain, loopback). */
  readonly url: string;
  readonly arrivals: readonly Arrival[];
  /** Messages the server refused so far, in order. */
  readonly refused: number;
  /** SMTP connections opened to it so far. */
  readonly connections: number;
  /**
   * Decides each message's reply: return a refusal, or undefined to accept it (250). `n` counts the DATA
   * commands received so far, from 1.
   */
  respond: (n: number, envelope: { from: string; to: readonly string[] }) => Refusal | undefined | Promise<Refusal | undefined>;
  /** Resolves when at least `count` messages have arrived (as they arrive, no polling). */
  waitForArrivals(count: number): Promise<readonly Arrival[]>;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1 with a port the system picks. `starttls`: offer STARTTLS (with smtp-server's
 * built-in self-signed certificate); by default the server speaks plain text only.
 */
export async function startSmtpServer(opts: { starttls?: boolean } = {}): Promise<TestSmtpServer> {
  const arrivals: Arrival[] = [];
  const waiters: Array<{ count: number; resolve: (a: readonly Arrival[]) => void }> = [];
  let dataCommands = 0;
  let refused = 0;
  let connections = 0;
  const api: { respond: TestSmtpServer['respond'] } = { respond: () => undefined };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: opts.starttls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onData(stream, session, callback) {
      const at = performance.now();
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        dataCommands += 1;
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        const refusal = await api.respond(dataCommands, envelope);
        if (refusal) {
          refused += 1;
          const err = Object.assign(new Error(refusal.text), { responseCode: refusal.code });
          callback(err);
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then((mail) => {
          arrivals.push({ raw, mail, envelope, secure: session.secure, at });
          for (const w of [...waiters]) {
            if (arrivals.length >= w.count) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(arrivals);
            }
          }
          callback(null);
        }, (err: Error) => callback(err));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined); // a client dropping its connection is not the test's failure
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: opts.starttls ? `smtp://127.0.0.1:${port}` : `smtp://127.0.0.1:${port}?tls=none`,
    arrivals,
    get refused() {
      return refused;
    },
    get connections() {
      return connections;
    },
    get respond() {
      return api.respond;
    },
    set respond(fn) {
      api.respond = fn;
    },
    waitForArrivals(count) {
      if (arrivals.length >= count) return Promise.resolve(arrivals);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
