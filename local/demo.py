"""Demo data for the local run: stores in several cities and well-known API keys.

These keys exist only in the local run (and tests); a deployed stack never seeds them."""
from __future__ import annotations

from loyalty.kernel.identity import ALL_STORES, DEFAULT_SCOPES, ClientKind
from loyalty.kernel.stores import Store

DEMO_STORES = [
    Store(store_id="SH-JINGAN", name="静安嘉里店", city="上海", timezone="Asia/Shanghai"),
    Store(store_id="SH-XUHUI", name="徐家汇店", city="上海", timezone="Asia/Shanghai"),
    Store(store_id="HZ-XIHU", name="西湖银泰店", city="杭州", timezone="Asia/Shanghai"),
    Store(store_id="CD-CHUNXI", name="春熙路店", city="成都", timezone="Asia/Shanghai"),
    Store(store_id="WEB", name="官方网店", city="线上", timezone="Asia/Shanghai", kind="webshop"),
    Store(store_id="APP", name="会员小程序", city="线上", timezone="Asia/Shanghai", kind="app"),
]

# (client id, kind, store ids, key id, secret): the key is lk_<key id>_<secret>
DEMO_CLIENTS = [
    ("pos-sh-jingan", ClientKind.POS, ["SH-JINGAN"], "demoshjingan", "pos-secret-sh-jingan"),
    ("pos-sh-xuhui", ClientKind.POS, ["SH-XUHUI"], "demoshxuhui", "pos-secret-sh-xuhui"),
    ("pos-hz-xihu", ClientKind.POS, ["HZ-XIHU"], "demohzxihu", "pos-secret-hz-xihu"),
    ("pos-cd-chunxi", ClientKind.POS, ["CD-CHUNXI"], "democdchunxi", "pos-secret-cd-chunxi"),
    ("webshop", ClientKind.WEBSHOP, ["WEB"], "demowebshop", "webshop-secret"),
    ("member-app", ClientKind.APP, ["APP"], "demoapp", "app-secret"),
    ("backoffice", ClientKind.BACKOFFICE, [ALL_STORES], "demobackoffice", "backoffice-secret"),
]


def demo_key(client_id: str) -> str:
    for cid, _kind, _stores, key_id, secret in DEMO_CLIENTS:
        if cid == client_id:
            return f"lk_{key_id}_{secret}"
    raise KeyError(client_id)


def demo_context(client_id: str) -> dict[str, str]:
    """The authorizer context a demo key produces, for handler tests that skip the authorizer."""
    for cid, kind, stores, _key_id, _secret in DEMO_CLIENTS:
        if cid == client_id:
            scopes = " ".join(sorted(s.value for s in DEFAULT_SCOPES[kind]))
            return {"client_id": cid, "kind": kind.value, "scopes": scopes, "store_ids": " ".join(sorted(stores))}
    raise KeyError(client_id)
