// The SMTP bench's receiving server, in a process of its own (so that it does not share the sender's event loop):
// smtp-server on a free loopback port, plain text, no auth; it reads each message to its end, keeps nothing, and
// counts messages and bytes. It talks to the bench over IPC: {port} when listening; 'count' → {messages, bytes};
// 'reset' → the counts start again from 0. It exits when the bench disconnects.
import { SMTPServer } from 'smtp-server';

let messages = 0;
let bytes = 0;
const server = new SMTPServer({
  secure: false,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  onData(stream, _session, callback) {
    let n = 0;
    stream.on('data', (c: Buffer) => { n += c.length; });
    stream.on('end', () => {
      messages += 1;
      bytes += n;
      callback(null);
    });
  },
});
server.on('error', () => undefined); // a client dropping its connection is not the bench's failure
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (m) => {
  if (m === 'count') process.send?.({ messages, bytes });
  if (m === 'reset') {
    messages = 0;
    bytes = 0;
    process.send?.({ messages, bytes });
  }
});
process.on('disconnect', () => server.close(() => process.exit(0)));
