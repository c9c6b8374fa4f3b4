"""wechatpy 1.8.18's WeChatCrypto, driven by tests/interop.rs.

Reads a JSON list of cases on stdin and writes one JSON result per case, in order, on stdout.
Each case names its WeChatCrypto (token, key, receive_id) and one call; a refusal is reported as
the exception's class name.
"""
import json
import sys

from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException


def run(case):
    crypto = WeChatCrypto(case["token"], case["key"], case["receive_id"])
    op = case["op"]
    try:
        if op == "encrypt_message":
            return {"body": crypto.encrypt_message(case["msg"], case["nonce"], case["timestamp"])}
        if op == "decrypt_message":
            return {"msg": crypto.decrypt_message(case["body"], case["msg_signature"], case["timestamp"], case["nonce"])}
        if op == "check_signature":
            return {"msg": crypto.check_signature(case["msg_signature"], case["timestamp"], case["nonce"], case["echostr"])}
    except (InvalidSignatureException, InvalidCorpIdException) as e:
        return {"error": type(e).__name__}
    raise ValueError("unknown op " + op)


json.dump([run(case) for case in json.load(sys.stdin)], sys.stdout, ensure_ascii=False)
