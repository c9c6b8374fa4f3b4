// npm @wecom/crypto 1.0.1 (the official Node library), driven by tests/interop.rs.
//
// Reads a JSON list of cases on stdin and writes one JSON result per case, in order, on stdout.
'use strict';

const wecom = require('@wecom/crypto');

function run(c) {
  switch (c.op) {
    case 'encrypt':
      return { encrypt: wecom.encrypt(c.key, c.msg, c.id) };
    case 'decrypt': {
      const { message, id } = wecom.decrypt(c.key, c.encrypt);
      return { msg: message, id };
    }
    case 'signature':
      return { signature: wecom.getSignature(c.token, c.timestamp, c.nonce, c.encrypt) };
    case 'jsapi':
      return { signature: wecom.getJsApiSignature({ ticket: c.ticket, nonceStr: c.noncestr, timestamp: c.timestamp, url: c.url }).signature };
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(JSON.parse(input).map(run)));
});
