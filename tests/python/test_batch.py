"""Asynchronous batch imports as wechatpy 1.8.18 runs them (client.batch.sync_user, replace_user,
replace_party, get_result, and the 企业号's invite_user): a CSV uploaded with client.media.upload,
the job polled to the end, the contacts read back with client.user / client.department, and the
batch_job_result event received by a wechatpy WeChatCrypto receiver (support.Receiver) named as
the job's callback."""

import time

from support import AES_KEY, CORPID, GROUP_SECRET, SYNC_SECRET, TOKEN, raises


def upload(client, text, encoding="utf-8"):
    return client.media.upload("file", ("import.csv", text.encode(encoding), "text/csv"))["media_id"]


def finished(client, jobid, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        res = client.batch.get_result(jobid)
        if res["status"] == 3 or time.monotonic() > deadline:
            assert (res["status"], res["percentage"]) == (3, 100), res
            return res
        time.sleep(0.05)


def test_sync_and_replace_users_with_a_wechatpy_receiver(server, receiver):
    client = server.client(SYNC_SECRET)
    csv = "姓名,帐号,手机号,邮箱,所在部门,职位,性别\n王五,wangwu,13800000003,,2,工程师,男\n李四,lisi,,lisi@example.com,1;2,经理,女\n"
    job = client.batch.sync_user(receiver.url, TOKEN, AES_KEY, upload(client, csv, "gbk"))
    jobid = job["jobid"]
    res = finished(client, jobid)
    assert res["type"] == "sync_user" and res["total"] == 2, res
    assert res["result"] == [{"userid": "wangwu", "errcode": 0, "errmsg": "ok"}, {"userid": "lisi", "errcode": 0, "errmsg": "ok"}]
    wangwu = client.user.get("wangwu")
    assert (wangwu["name"], wangwu["department"], wangwu["gender"], wangwu["position"]) == ("王五", [2], "1", "工程师")
    assert client.user.get("lisi")["department"] == [1, 2]

    # The job's callback: wechatpy's receiver verifies, decrypts and parses batch_job_result.
    pushes = receiver.wait_for(1, 15)
    assert len(pushes) == 1, pushes
    event = pushes[0][1]
    assert (event.type, event.event, event.source, event.target) == ("event", "batch_job_result", "sys", CORPID)
    assert (event.job_id, event.job_type, int(event.err_code), event.err_msg) == (jobid, "sync_user", 0, "ok")

    # replace_user: lisi is not in the file and goes (1 of 3 is no deletion protection).
    csv = "\ufeff姓名,帐号,手机号,所在部门\n\"Zhang, San\",zhangsan,13800000001,2\nWang Wu,wangwu,13800000003,2\n"
    jobid = client.batch.replace_user(receiver.url, TOKEN, AES_KEY, upload(client, csv))["jobid"]
    res = finished(client, jobid)
    assert [r["errcode"] for r in res["result"]] == [0, 0], res
    assert client.user.get("zhangsan")["name"] == "Zhang, San"
    assert raises(client.user.get, "lisi").errcode == 60111
    assert receiver.wait_for(2, 15)[1][1].job_type == "replace_user"


def test_replace_party_and_job_errors(server, receiver):
    client = server.client(SYNC_SECRET)
    csv = "部门名称,部门ID,父部门ID,排序\n测试企业,1,0,\nR&D,2,1,100\nQA,7,2,\n"
    jobid = client.batch.replace_party(receiver.url, TOKEN, AES_KEY, upload(client, csv))["jobid"]
    res = finished(client, jobid)
    assert res["type"] == "replace_party"
    assert [(r["partyid"], r["action"], r["errcode"]) for r in res["result"]] == [(1, 2, 0), (2, 8, 0), (7, 1, 0)], res
    departments = {d["id"]: d for d in client.department.get()}
    assert departments[7]["parentid"] == 2 and departments[1]["name"] == "测试企业"
    assert receiver.wait_for(1, 15)[0][1].job_type == "replace_party"

    # The platform's errcodes reach wechatpy as WeChatClientException.
    assert raises(client.batch.get_result, "no-such-job").errcode == 40088
    assert raises(client.batch.sync_user, receiver.url, TOKEN, AES_KEY, "1unknown").errcode == 40007
    dup = upload(client, "姓名,帐号,手机号,所在部门\nA,dup,13800000090,1\nB,Dup,13800000091,1\n")
    assert raises(client.batch.sync_user, receiver.url, TOKEN, AES_KEY, dup).errcode == 302003
    bad_tree = upload(client, "部门名称,部门ID,父部门ID\nA,8,9\n")
    assert raises(client.batch.replace_party, receiver.url, TOKEN, AES_KEY, bad_tree).errcode == 302004
    assert raises(client.batch.sync_user, "ftp://nowhere", TOKEN, AES_KEY, dup).errcode == 40057


def test_legacy_group_imports_and_invites(server, receiver):
    legacy = server.client(GROUP_SECRET)
    csv = "姓名,帐号,微信号,所在部门\n赵六,zhaoliu,wx_zhaoliu,2\n"
    jobid = legacy.batch.sync_user(receiver.url, TOKEN, AES_KEY, upload(legacy, csv))["jobid"]
    res = finished(legacy, jobid)
    # The 企业号's answer also said what each row did and how long was left.
    assert res["remaintime"] == 0 and res["result"] == [{"userid": "zhaoliu", "errcode": 0, "errmsg": "ok", "action": 2}], res
    assert legacy.user.get("zhaoliu")["weixinid"] == "wx_zhaoliu"

    res = legacy.batch.invite_user(receiver.url, TOKEN, AES_KEY, user_ids=["zhaoliu", "zhangsan"], invite_tips="welcome")
    res = finished(legacy, res["jobid"])
    assert res["type"] == "invite_user"
    assert [(r["userid"], r["invitetype"], r["errcode"]) for r in res["result"]] == [("zhaoliu", 1, 0), ("zhangsan", 0, 60119)], res
    jobs = [p[1].job_type for p in receiver.wait_for(2, 15)]
    assert jobs == ["sync_user", "invite_user"], jobs
    # WeCom has no asynchronous invitation: batch/invite answers at once instead.
    wecom = server.client(SYNC_SECRET)
    assert raises(wecom.batch.invite_user, receiver.url, TOKEN, AES_KEY, user_ids=["zhaoliu"]).errcode == 48005
