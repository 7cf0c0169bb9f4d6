"""files.* methods: Slack's two-step external upload."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from bot.devslack.chat import ChatMethods
from bot.devslack.records import (
    Fail,
    Pending,
    UploadedFile,
)


class FileMethods(ChatMethods):
    """files.getUploadURLExternal, the upload POST, files.completeUploadExternal."""

    def _m_files_getUploadURLExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(a.get("length", ""))
        except ValueError:
            length = 0
        if not a.get("filename") or length <= 0:
            raise Fail("invalid_arguments", "[ERROR] filename and a positive length are required")
        file_id = self._id("F")
        self._pending[file_id] = Pending(file_id, a["filename"], length)
        return {"upload_url": f"{self.base}/upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, a: dict[str, Any]) -> dict[str, Any]:
        files = a.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            raise Fail("invalid_arguments", "[ERROR] files must be a JSON array of {id, title}")
        targets = [a["channel_id"]] if a.get("channel_id") else []
        targets += [c for c in str(a.get("channels") or "").split(",") if c]
        thread_ts = a.get("thread_ts") or None
        if thread_ts and len(targets) != 1:
            raise Fail("invalid_arguments", "[ERROR] thread_ts needs exactly one channel")
        pending: list[Pending] = []
        for f in files:
            p = self._pending.get(str(f.get("id")))
            if p is None or p.data is None:
                raise Fail("file_not_found", f"[ERROR] no uploaded bytes for {f.get('id')}")
            if len(p.data) != p.length:
                raise Fail(
                    "invalid_arguments",
                    f"[ERROR] {p.id}: declared {p.length} bytes, received {len(p.data)}",
                )
            pending.append(p)
        for channel_id in targets:
            if channel_id[:1] in ("U", "W"):
                raise Fail("channel_not_found", "[ERROR] use a conversation id, not a user id")
            self._member_channel(channel_id)
            if thread_ts:
                parent = self._find(channel_id, thread_ts)
                if parent is None or parent.thread_ts is not None:
                    raise Fail("invalid_thread_ts", "[ERROR] thread_ts must be a parent message")
        answer = []
        comment = a.get("initial_comment") or None
        # One message shares every file of the call, with the comment as its text.
        shares = [
            self._post(channel_id, comment or "", [], thread_ts) for channel_id in targets[:1]
        ]
        for f, p in zip(files, pending, strict=True):
            title = f.get("title") or p.filename
            info = {"id": p.id, "name": p.filename, "title": title, "size": p.length}
            uploaded = UploadedFile(p.id, p.filename, title, p.data or b"", initial_comment=comment)
            for share in shares:
                share.files.append(dict(info))
                uploaded.channel_id, uploaded.thread_ts = share.channel, thread_ts
                uploaded.message_ts = share.ts
            del self._pending[p.id]
            self._files.append(uploaded)
            answer.append(info)  # no "shares": real sharing is asynchronous, never rely on it
        return {"files": answer}


def file_bytes(content_type: str, body: bytes) -> bytes:
    """The file from an upload POST: slack_sdk sends raw bytes; browsers send multipart."""
    if not content_type.startswith("multipart/form-data"):
        return body
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    for part in message.iter_parts():
        if part.get_filename() or part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return body
