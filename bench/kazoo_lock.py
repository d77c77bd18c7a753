# kazoo's Lock measured for the bench (run with Debian's /usr/bin/python3 and python3-kazoo):
# `kazoo_lock.py HOST:PORT`, then one JSON command per line on stdin, one JSON answer per line:
#   {"op": "cycles", "path": "/l/a", "cycles": 200}
#     -> {"ok": true, "cycles": 200, "elapsedMs": ...}        uncontended acquire + release on one client
#   {"op": "handoff", "path": "/l/b", "clients": 4, "acquisitions": 200}
#     -> {"ok": true, "acquisitions": ..., "handoffP50Ms": ..., "handoffP99Ms": ...}
# A hand-off is the time from one holder starting its release to the next holder returning from
# acquire, as in the Curator harness. Exits when stdin closes, closing every client it opened.
import json
import sys
import threading
import time

from kazoo.client import KazooClient

SESSION_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10.0
ACQUIRE_TIMEOUT_S = 30.0


def connect(hosts):
    client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_S)
    client.start(timeout=CONNECT_TIMEOUT_S)
    return client


def cycles(client, command):
    lock = client.Lock(command["path"], "bench")
    count = int(command["cycles"])
    start = time.perf_counter()
    for _ in range(count):
        if not lock.acquire(timeout=ACQUIRE_TIMEOUT_S):
            raise RuntimeError("uncontended acquire timed out")
        lock.release()
    return {"cycles": count, "elapsedMs": (time.perf_counter() - start) * 1000}


def handoff(hosts, command):
    client_count = int(command.get("clients", 4))
    remaining = [int(command.get("acquisitions", 200))]
    released_at = [None]
    handoffs = []
    failures = []
    guard = threading.Lock()
    clients = []
    try:
        for _ in range(client_count):
            clients.append(connect(hosts))

        def contend(client):
            lock = client.Lock(command["path"], "bench")
            try:
                while True:
                    with guard:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    if not lock.acquire(timeout=ACQUIRE_TIMEOUT_S):
                        raise RuntimeError("contended acquire timed out")
                    acquired = time.perf_counter()
                    with guard:
                        if released_at[0] is not None:
                            handoffs.append(acquired - released_at[0])
                        released_at[0] = time.perf_counter()
                    lock.release()
            except Exception as error:  # reported to the bench, which fails the round
                failures.append(error)

        threads = [threading.Thread(target=contend, args=(c,), daemon=True) for c in clients]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed_ms = (time.perf_counter() - start) * 1000
        if failures:
            raise failures[0]
        handoffs.sort()
        p50 = handoffs[len(handoffs) // 2] * 1000 if handoffs else 0.0
        p99 = handoffs[min(len(handoffs) - 1, len(handoffs) * 99 // 100)] * 1000 if handoffs else 0.0
        return {
            "acquisitions": len(handoffs) + 1,
            "elapsedMs": elapsed_ms,
            "handoffP50Ms": p50,
            "handoffP99Ms": p99,
        }
    finally:
        for client in clients:
            client.stop()
            client.close()


def main():
    hosts = sys.argv[1]
    client = connect(hosts)
    print(json.dumps({"ready": True}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                command = json.loads(line)
                if command["op"] == "cycles":
                    answer = cycles(client, command)
                elif command["op"] == "handoff":
                    answer = handoff(hosts, command)
                else:
                    raise ValueError("unknown op %r" % command["op"])
                answer["ok"] = True
            except Exception as error:
                answer = {"ok": False, "error": "%s: %s" % (type(error).__name__, error)}
            print(json.dumps(answer), flush=True)
    finally:
        client.stop()
        client.close()


if __name__ == "__main__":
    main()
