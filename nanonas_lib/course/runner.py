"""The learner's side when grading: a Python process in the sandbox that runs cells and answers the grader's calls.

It talks to the grader over its stdin and stdout only (4-byte length, then JSON); the learner's code gets
/dev/null for its own input and output. It holds no check, no reference and no point: it runs the code it is
sent, and answers each call with plain data (remote.serve). Whatever the learner's code does to this process
changes only the answers it gives, never how they are judged.
"""

import itertools
import json
import os
import queue
import signal
import struct
import sys
import threading

MESSAGE_LIMIT = 32 * 2**20  # bytes: far above any honest reply (the largest is about 100 kB)


def read_message(stream):
    """One message from a binary stream, or None at its end."""
    head = stream.read(4)
    if len(head) < 4:
        return None
    size = struct.unpack(">I", head)[0]
    if size > MESSAGE_LIMIT:
        return None
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def frame(message: dict) -> bytes:
    data = json.dumps(message).encode()
    return struct.pack(">I", len(data)) + data


def _run_cell(shell, source: str) -> dict:
    result = shell.run_cell(source, store_history=False)
    error = result.error_before_exec or result.error_in_exec
    if error is None:
        return {"status": "ok"}
    if isinstance(error, KeyboardInterrupt):
        return {"status": "interrupted"}
    if isinstance(error, SystemExit):
        return {"status": "error", "ename": "SystemExit", "evalue": ""}
    from .remote import _text

    return {"status": "error", "ename": type(error).__name__[:80], "evalue": _text(error)}


def _handle(shell, message: dict) -> dict:
    from . import remote

    if message.get("op") == "run":
        return _run_cell(shell, str(message.get("source", "")))
    if message.get("op") == "call":
        request = message.get("request") or {}
        if "describe" in request:
            return {"status": "ok", "reply": remote.describe(shell.user_ns, request["describe"])}
        return {"status": "ok", "reply": remote.serve(request, shell.user_ns)}
    return {"status": "ok"}  # a ping


def main() -> None:
    reader = os.fdopen(os.dup(0), "rb", buffering=0)
    writer = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)  # the learner's prints go nowhere, and cannot reach the grader's channel by accident
    lock, requests, answers = threading.Lock(), queue.Queue(), queue.Queue()

    def send(message):
        try:
            data = frame(message)
        except (TypeError, ValueError):
            data = frame({"id": message.get("id"), "status": "error", "ename": "", "evalue": "a reply was not JSON"})
        with lock:
            writer.write(data)

    def listen():  # a second thread, so that an interrupt arrives while the main thread runs the learner's code
        while True:
            try:
                message = read_message(reader)
            except ValueError:
                message = None
            if message is None:
                os._exit(0)  # the grader has gone: so does this process
            if message.get("op") == "interrupt":
                os.kill(os.getpid(), signal.SIGINT)
            elif message.get("op") == "looked":
                answers.put(message)
            else:
                requests.put(message)

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    from . import remote

    ask_lock, numbers = threading.Lock(), itertools.count(1)

    def ask(index, key):  # a fitness whose table stays with the grader: one exchange per evaluation
        with ask_lock:
            number = next(numbers)
            send({"op": "lookup", "lookup": index, "key": key, "seq": number})
            while True:
                reply = answers.get()
                if reply.get("seq") == number:
                    return reply

    remote.ASK = ask

    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    threading.Thread(target=listen, daemon=True).start()
    send({"id": 0, "status": "ready"})
    while True:
        try:
            message = requests.get()
        except KeyboardInterrupt:  # an interrupt that came late, between two requests
            continue
        try:
            reply = _handle(shell, message)
        except KeyboardInterrupt:
            reply = {"status": "interrupted"}
        except BaseException as e:  # noqa: BLE001 - e.g. SystemExit from a learner's function called by a probe
            reply = {"status": "error", "ename": type(e).__name__[:80], "evalue": ""}
        reply["id"] = message.get("id")
        try:
            send(reply)
        except KeyboardInterrupt:
            send(reply)


if __name__ == "__main__":
    sys.exit(main())
