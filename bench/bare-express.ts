// The baseline of bench/webhook-intake.ts: Express verifying X-Hub-Signature-256 over the
// raw body and answering as Harrier does, and nothing else. Run in a process of its own,
// as `harrier server` is, so that neither shares an event loop with the bench's clients.
//   BARE_SECRET=... node --import tsx bench/bare-express.ts   (prints the port it listens on)
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

const secret = process.env.BARE_SECRET ?? '';
const app = express();
app.post('/hook', express.raw({ type: () => true, limit: '10mb' }), (req, res) => {
  const body = req.body as Buffer;
  const given = Buffer.from(String(req.headers['x-hub-signature-256'] ?? '').slice('sha256='.length));
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    res.status(401).json({ message: 'bad signature' });
    return;
  }
  res.status(202).json({ id: 1, status: 'pending' });
});
const server = http.createServer(app);
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
