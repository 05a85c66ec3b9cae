"""A finding as the observed fact, not the control's criterion: "HMAC 密钥可被猜测：在公开密钥表中 3 次尝试命中",
not "the HMAC key resists guessing". Each reading below recognises the evidence a kind of check records
and states what was seen, with its numbers; a check whose evidence none recognises says its reason, or
nothing (the document then shows the check's title alone, which is its criterion, and no invented fact)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Reading = Callable[[dict[str, Any], dict[str, Any]], tuple[str, str] | None]


def _few(items: list[Any], n: int = 3) -> str:
    return ", ".join(map(str, items[:n])) + (" …" if len(items) > n else "")


def _secret(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "candidates_tried" not in e or "secret" not in e:
        return None
    n = e["candidates_tried"]
    return (f"HMAC 密钥可被猜测：在公开密钥表中{n}次尝试命中（{e.get('alg', '')}）",
            f"the HMAC key was guessed from a public wordlist in {n} attempts ({e.get('alg', '')})")


def _variants(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "variants_tried" not in e or not e.get("accepted"):
        return None
    tried, ok = e["variants_tried"], list(e["accepted"])
    return (f"构造的{len(tried)}种令牌变体中有{len(ok)}种被接受（{_few(ok)}）",
            f"{len(ok)} of {len(tried)} forged token variants were accepted ({_few(ok)})")


def _foreign_object(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "object_of" not in e or "request" not in e:
        return None
    return (f"以用户 {e['as']} 的凭据读取到用户 {e['object_of']} 的数据：{e['request']} 返回 {e['status']}",
            f"{e['as']}'s credentials read {e['object_of']}'s data: {e['request']} answered {e['status']}")


def _roles(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not e.get("reached_by"):
        return None
    r = e["reached_by"][0]
    roles = "、".join(e.get("allowed_roles", []))
    return (f"仅限{roles}角色的接口被{r['role']}角色的用户 {r['as']} 访问：{r['request']} 返回 {r['status']}",
            f"an endpoint for {roles} only was reached by {r['as']} ({r['role']}): {r['request']} answered {r['status']}")


def _sequential(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not e.get("reached") or "as" not in e:
        return None
    first = e["reached"][0]
    return (f"以用户 {e['as']} 的凭据按顺序编号访问到{len(e['reached'])}个他人对象，如 {first['request']}",
            f"{e['as']} reached {len(e['reached'])} others' objects by counting ids, e.g. {first['request']}")


def _unexpected(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not e.get("unexpected"):
        return None
    paths = [u.get("path", "?") for u in e["unexpected"]]
    return (f"响应中含{len(paths)}个接口未声明的个人信息字段：{_few(paths)}",
            f"responses hold {len(paths)} personal fields the interface does not declare: {_few(paths)}")


def _undocumented(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not e.get("undocumented"):
        return None
    paths = [u.get("path", "?") for u in e["undocumented"]]
    return (f"{len(paths)}个未登记的接口可被访问：{_few(paths)}",
            f"{len(paths)} undocumented endpoints answer: {_few(paths)}")


def _query_token(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not isinstance(e.get("accepted"), list) or not e["accepted"]:
        return None
    return (f"{len(e['accepted'])}个以URL参数携带令牌的请求被接受", f"{len(e['accepted'])} requests with the token in the URL "
            "were accepted")


def _enumeration(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not e.get("differs_in"):
        return None
    how = "、".join({"status": "状态码", "body": "响应内容", "time": "响应时间"}.get(x, x) for x in e["differs_in"])
    return (f"密码错误与用户不存在两种情况的响应在{how}上不同，可据此枚举用户",
            f"wrong password and unknown user differ in {', '.join(e['differs_in'])}: users can be enumerated")


def _headers(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    d = e.get("disclosed")
    if isinstance(d, dict) and d:
        return (f"响应头披露软件版本：{_few([f'{k}: {v}' for k, v in d.items()])}",
                f"response headers disclose software versions: {_few([f'{k}: {v}' for k, v in d.items()])}")
    if isinstance(d, list) and d:
        return (f"错误响应披露内部信息（{'、'.join(d)}）：{e.get('request', '')} 返回 {e.get('status', '')}",
                f"an error response discloses {', '.join(d)}: {e.get('request', '')} answered {e.get('status', '')}")
    return None


def _cors(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "allow_origin" not in e:
        return None
    return (f"跨域策略允许任意来源（{e['allow_origin']}）携带凭据访问",
            f"CORS lets any origin ({e['allow_origin']}) call with credentials")


def _burst(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "burst" not in e or "served" not in e:
        return None
    return (f"连续{e['burst']}个请求中{e['served']}个得到正常响应，未见限流",
            f"{e['served']} of {e['burst']} back-to-back requests were served: no rate limit")


def _hsts(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "headers" not in e:
        return None
    return ("HTTPS 响应未携带 Strict-Transport-Security 头", "HTTPS responses carry no Strict-Transport-Security header")


def _readable(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not e.get("readable"):
        return None
    cols = e["readable"]
    return (f"{len(cols)}个敏感个人信息字段以可直接读取的形式存储：{_few(cols)}",
            f"{len(cols)} sensitive-PI columns are stored readable: {_few(cols)}")


def _signals(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if not isinstance(e.get("signals"), list) or not e["signals"]:
        return None
    return (f"涉及{len(e['signals'])}个信号：{_few(e['signals'])}", f"{len(e['signals'])} signals: {_few(e['signals'])}")


def _backdoor(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if e.get("flagged_classes"):
        return (f"触发器重构将类别{_few(e['flagged_classes'])}标记为可疑后门目标",
                f"trigger reconstruction flags class {_few(e['flagged_classes'])} as a likely backdoor target")
    if "suspect_class" in e and "share_on_class" in m:
        return (f"叠加{e['patch_size']}像素补丁后{m['share_on_class']:.0%}的输入被判为类别{e['suspect_class']}",
                f"with a {e['patch_size']}-pixel patch {m['share_on_class']:.0%} of inputs go to class {e['suspect_class']}")
    return None


def _rates(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "violation_rate" in m:
        return (f"变换后预测违例率{m['violation_rate']:.0%}", f"{m['violation_rate']:.0%} of predictions change under the "
                "transformation")
    if "worst_error" in m:
        return (f"最严重损坏下误差率{m['worst_error']:.0%}（{m.get('images', '?')}张图像）",
                f"error {m['worst_error']:.0%} under the worst corruption ({m.get('images', '?')} images)")
    return None


def _request(e: dict[str, Any], m: dict[str, Any]) -> tuple[str, str] | None:
    if "request" not in e or "status" not in e:
        return None
    return f"{e['request']} 返回 {e['status']}", f"{e['request']} answered {e['status']}"


# most specific first: a generic request/status reading is the last resort
READINGS: tuple[Reading, ...] = (_secret, _variants, _foreign_object, _roles, _sequential, _unexpected, _undocumented,
                                 _query_token, _enumeration, _headers, _cors, _burst, _hsts, _readable, _backdoor,
                                 _rates, _signals, _request)


def observed(check: dict[str, Any], lang: str) -> str | None:
    """What the check saw, in ``lang``; None when its evidence is of no kind read here and it gives no reason."""
    e, m = check.get("evidence") or {}, check.get("metrics") or {}
    for read in READINGS:
        try:
            said = read(e, m)
        except (KeyError, TypeError, ValueError):  # evidence of another shape: the next reading may know it
            said = None
        if said:
            return said[0] if lang == "zh" else said[1]
    if check.get("reason"):
        from .. import zh

        return zh.sentence_or_quote(check["reason"]) if lang == "zh" else check["reason"]
    return None
