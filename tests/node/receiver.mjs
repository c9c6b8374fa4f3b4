// A callback receiver as a Node developer writes one with npm @wecom/crypto 1.0.1 (the official
// library): it verifies the URL, checks and decrypts every push, and answers member texts and
// template card clicks with encrypted passive replies. Driven by crates/wecomd/tests/node_receiver.rs.
//
//   node tests/node/receiver.mjs TOKEN ENCODING_AES_KEY CORPID
//
// stdout, one JSON object a line: {"listening": port} first, then {"verified": echo} for a URL
// verification and {"xml", "message"} for each push (its inner XML, and that XML read into an
// object: repeated elements become arrays).
import http from 'node:http';
import crypto from 'node:crypto';
import wecom from '@wecom/crypto';

const [token, aesKey, corpid] = process.argv.slice(2);

const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

// The children of an XML element's content, as an object; text (CDATA or escaped) as strings.
function read(xml) {
  const out = {};
  const open = /<([A-Za-z_][\w]*)>/g;
  let m;
  while ((m = open.exec(xml)) !== null) {
    const name = m[1];
    const start = open.lastIndex;
    const end = xml.indexOf(`</${name}>`, start);
    if (end < 0) throw new Error(`no </${name}>`);
    const inner = xml.slice(start, end);
    const text = inner.trim();
    let value;
    if (text.startsWith('<![CDATA[')) {
      value = [...text.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)].map((c) => c[1]).join('');
    } else if (text.startsWith('<')) {
      value = read(inner);
    } else {
      value = text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    }
    if (name in out) out[name] = [].concat(out[name], [value]);
    else out[name] = value;
    open.lastIndex = end + name.length + 3;
  }
  return out;
}

// The children of the root element (`<xml>`).
const root = (xml) => read(xml.replace(/^[\s\S]*?<xml>|<\/xml>[\s\S]*$/g, ''));

// An encrypted passive reply, signed over its own timestamp and nonce.
function sealed(inner) {
  const encrypted = wecom.encrypt(aesKey, inner, corpid);
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(crypto.randomInt(100000000, 999999999));
  const signature = wecom.getSignature(token, timestamp, nonce, encrypted);
  return `<xml><Encrypt><![CDATA[${encrypted}]]></Encrypt><MsgSignature><![CDATA[${signature}]]></MsgSignature>`
    + `<TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`;
}

function reply(message) {
  const head = `<ToUserName><![CDATA[${message.FromUserName}]]></ToUserName><FromUserName><![CDATA[${corpid}]]></FromUserName>`
    + `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime>`;
  if (message.MsgType === 'text') {
    return sealed(`<xml>${head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[node got: ${message.Content}]]></Content></xml>`);
  }
  if (message.Event === 'template_card_event') {
    return sealed(`<xml>${head}<MsgType><![CDATA[update_button]]></MsgType><Button><ReplaceName><![CDATA[Seen by node]]></ReplaceName></Button></xml>`);
  }
  return '';
}

// A ciphertext is ours when its signature holds and it was sealed for our corp.
function open(q, encrypted) {
  if (wecom.getSignature(token, q.get('timestamp'), q.get('nonce'), encrypted) !== q.get('msg_signature')) {
    throw new Error('bad msg_signature');
  }
  const { message, id } = wecom.decrypt(aesKey, encrypted);
  if (id !== corpid) throw new Error(`sealed for ${id}`);
  return message;
}

const server = http.createServer((req, res) => {
  const q = new URL(req.url, 'http://receiver').searchParams;
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', () => {
    try {
      if (req.method === 'GET') {
        const echo = open(q, q.get('echostr'));
        say({ verified: echo });
        res.end(echo);
        return;
      }
      const xml = open(q, root(body).Encrypt);
      const message = root(xml);
      say({ xml, message });
      res.setHeader('Content-Type', 'text/xml');
      res.end(reply(message));
    } catch (e) {
      say({ refused: String(e.message) });
      res.statusCode = 403;
      res.end(String(e.message));
    }
  });
});

server.listen(0, '127.0.0.1', () => say({ listening: server.address().port }));
