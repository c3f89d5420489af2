// Baseline 2 of the webhook benchmark, the ceiling of the framework: an empty express 5 app
// as one would write it (express.json() with the webhook's 7 MiB limit, res.json), answering
// allowed: true with the request's uid.
import express from 'express';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';

const [port, certFile, keyFile] = process.argv.slice(2);
const app = express();
app.post('/validate', express.json({ limit: '7mb' }), (req, res) => {
  res.json({ apiVersion: req.body.apiVersion, kind: 'AdmissionReview', response: { uid: req.body.request.uid, allowed: true } });
});
createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, app).listen(Number(port), '127.0.0.1');
