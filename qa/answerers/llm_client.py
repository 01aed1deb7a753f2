"""A small client of the OpenAI-compatible chat API (`POST /v1/chat/completions`), for the llm answerer.

Only the standard library: `http.client` talks to the one configured URL, with no proxy taken from the
environment and no redirect followed, so a prompt holding the user's documents goes nowhere else. The
API key goes in the Authorization header only: never in a message, a repr or a log line.

Structured output degrades with the server: `response_format` json_schema first (llama.cpp, vLLM,
OpenAI), then json_object with the schema in the prompt for servers that refuse json_schema, then plain
text parsed leniently (`loads_lenient`) for servers with neither. The mode a server accepted is kept.

    >>> c = ChatClient("http://127.0.0.1:8080", timeout=30)
    >>> c.chat([{"role": "user", "content": "Say hi as JSON"}], {"type": "object"}, max_tokens=20)
    '{"hi": "there"}'
"""
from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import ConfigError, QAError

MODES = ("json_schema", "json_object", "text")  # tried in this order; see ChatClient.mode
REFUSED = (400, 415, 422, 500, 501)  # what a server answers to a response_format it does not know
SCHEMA_HINT = "\n\nReply with one JSON object, and nothing else, that follows this JSON schema:\n"


class LLMError(QAError):
    """The model server cannot be used: down, slow, refusing, or answering something else than a chat
    completion. The message names the URL (never the API key); `in_lang("fr")` says it in French."""

    def __init__(self, message: str, french: str = ""):
        super().__init__(message)
        self.french = french or message

    def in_lang(self, lang: str) -> str:
        return self.french if lang == "fr" else str(self)


class _Refused(Exception):
    """The server refused the structured-output mode: the next one in MODES is tried."""


@dataclass(repr=False)
class ChatClient:
    url: str  # the server (http://host:port), its /v1, or the full .../chat/completions URL
    model: str = ""  # sent as "model" when set (hosted APIs need it; llama.cpp serves the one it loaded)
    api_key: str = field(default="", repr=False)
    timeout: float = 60.0  # seconds: for a whole answer; for a stream, the longest wait between two events
    mode: str = "json_schema"  # the structured-output mode the server accepts (lowered on refusal)

    def __post_init__(self):
        u = urlsplit(self.url.strip())
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ConfigError(f"QA_LLM_URL must be http://host:port or https://host/... Currently, it is {self.shown_url!r}")
        if not self.timeout > 0:
            raise ConfigError(f"QA_LLM_TIMEOUT must be more than 0 seconds. Currently, it is {self.timeout!r}")
        path = u.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path += "/chat/completions" if path.endswith("/v1") else "/v1/chat/completions"
        self._scheme, self._host, self._port = u.scheme, u.hostname, u.port
        self._path = path + (f"?{u.query}" if u.query else "")

    def __repr__(self) -> str:
        return f"ChatClient({self.shown_url!r}, model={self.model!r}, timeout={self.timeout:g}, mode={self.mode!r})"

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: without any user:password@ or query string."""
        u = urlsplit(self.url.strip())
        host = u.hostname or ""
        return f"{u.scheme}://{host}{f':{u.port}' if u.port else ''}{u.path}" if u.scheme else self.url[:100]

    # -- the two calls ---------------------------------------------------------------------------
    def chat(self, messages: list[dict], schema: dict | None = None, max_tokens: int = 256) -> str:
        """The assistant's reply (a JSON text when `schema` is given and the server follows it)."""
        for mode in self._modes(schema):
            try:
                with self._post(self._body(messages, schema, max_tokens, mode, stream=False)) as resp:
                    raw = self._read_all(resp)
            except _Refused:
                continue
            self.mode = mode if schema is not None else self.mode
            return self._content(raw)
        raise self._error("refused every structured-output mode (json_schema, json_object, plain text)",
                          "a refusé tous les modes de sortie structurée (json_schema, json_object, texte brut)")

    def stream(self, messages: list[dict], schema: dict | None = None, max_tokens: int = 256) -> Iterator[str]:
        """The reply's text as it is generated (`"stream": true`, server-sent events). Raises LLMError
        if the stream breaks before the server says it is done."""
        for mode in self._modes(schema):
            try:
                resp = self._post(self._body(messages, schema, max_tokens, mode, stream=True))
            except _Refused:
                continue
            self.mode = mode if schema is not None else self.mode
            with resp:
                yield from self._events(resp)
            return
        raise self._error("refused every structured-output mode (json_schema, json_object, plain text)",
                          "a refusé tous les modes de sortie structurée (json_schema, json_object, texte brut)")

    # -- the request -----------------------------------------------------------------------------
    def _modes(self, schema) -> tuple[str, ...]:
        return MODES[MODES.index(self.mode):] if schema is not None else ("text",)

    def _body(self, messages, schema, max_tokens, mode, stream) -> dict:
        body = {"messages": [dict(m) for m in messages], "max_tokens": max_tokens, "temperature": 0, "stream": stream}
        if self.model:
            body["model"] = self.model
        if schema is not None and mode == "json_schema":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "answer", "strict": True, "schema": schema}}
        elif schema is not None:
            if mode == "json_object":
                body["response_format"] = {"type": "json_object"}
            hint = SCHEMA_HINT + json.dumps(schema, ensure_ascii=False)
            first = body["messages"][0]
            if first.get("role") == "system":
                first["content"] = first["content"] + hint
            else:
                body["messages"].insert(0, {"role": "system", "content": hint.strip()})
        return body

    def _post(self, body: dict):
        conn_class = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = conn_class(self._host, self._port, timeout=self.timeout)
        # one request per connection: the response, once closed, leaves no socket open behind it
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "Connection": "close"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        try:
            conn.request("POST", self._path, body=json.dumps(body).encode("utf-8"), headers=headers)
            resp = conn.getresponse()
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            conn.close()
            raise self._failure(e) from None
        if resp.status >= 300:
            text = self._read_all(resp, limit=2000)
            conn.close()
            if resp.status in REFUSED and "response_format" in body:
                raise _Refused(resp.status)
            raise self._error(*_status_message(resp.status, text))
        return resp

    # -- the response ----------------------------------------------------------------------------
    def _read_all(self, resp, limit: int = 20_000_000) -> str:
        deadline, parts, size = time.monotonic() + self.timeout, [], 0
        try:
            while chunk := resp.read1(65536):
                parts.append(chunk)
                size += len(chunk)
                if size > limit:
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            raise self._failure(e) from None
        return b"".join(parts).decode("utf-8", "replace")

    def _content(self, raw: str) -> str:
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise self._error(f"answered something that is not a chat completion: {_snippet(raw)}",
                              f"a répondu autre chose qu’une réponse de chat : {_snippet(raw)}") from None
        if not isinstance(content, str):
            raise self._error(f"answered a chat completion without text: {_snippet(raw)}",
                              f"a répondu une réponse de chat sans texte : {_snippet(raw)}")
        return content

    def _events(self, resp) -> Iterator[str]:
        finished = False
        try:
            while line := resp.readline():
                line = line.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue  # comments (": ping"), event names, the blank lines between events
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    event = json.loads(data)
                except ValueError:
                    raise self._error(f"sent an event that is not JSON: {_snippet(data)}",
                                      f"a envoyé un événement qui n’est pas du JSON : {_snippet(data)}") from None
                if not isinstance(event, dict) or "error" in event:
                    raise self._error(f"sent an error: {_snippet(data)}", f"a envoyé une erreur : {_snippet(data)}")
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content")
                    if isinstance(text, str) and text:
                        yield text
                    finished = finished or bool(choice.get("finish_reason"))
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            raise self._failure(e) from None
        if not finished:
            raise self._error("closed the connection before the end of the answer",
                              "a fermé la connexion avant la fin de la réponse")

    # -- errors ----------------------------------------------------------------------------------
    def _failure(self, e: BaseException) -> LLMError:
        if isinstance(e, TimeoutError):
            return self._error(f"did not answer within {self.timeout:g} s (QA_LLM_TIMEOUT)",
                               f"n’a pas répondu en {self.timeout:g} s (QA_LLM_TIMEOUT)")
        if isinstance(e, ConnectionRefusedError):
            return self._error("cannot be reached (connection refused): is the model server running?",
                               "est injoignable (connexion refusée) : le serveur du modèle est-il lancé ?")
        if isinstance(e, (http.client.HTTPException, ConnectionError)):
            return self._error(f"closed the connection before the end of the answer ({type(e).__name__})",
                               f"a fermé la connexion avant la fin de la réponse ({type(e).__name__})")
        why = getattr(e, "strerror", None) or e
        return self._error(f"cannot be reached ({why})", f"est injoignable ({why})")

    def _error(self, what: str, french: str = "") -> LLMError:
        """What went wrong, after the URL, in English and (`french`) in French: the note of a French answer."""
        message = f"the model server at {self.shown_url} {what}"
        fr = f"le serveur du modèle à {self.shown_url} {french}" if french else message
        if self.api_key:
            message, fr = message.replace(self.api_key, "***"), fr.replace(self.api_key, "***")
        return LLMError(message, fr)


def _status_message(status: int, text: str) -> tuple[str, str]:
    """(English, French)."""
    if status in (401, 403):
        return (f"refused the API key (HTTP {status}; QA_LLM_API_KEY)",
                f"a refusé la clé d’API (HTTP {status} ; QA_LLM_API_KEY)")
    if status == 404:
        return ("has no chat completions endpoint there (HTTP 404): check QA_LLM_URL",
                "n’a pas de point d’accès /chat/completions à cette adresse (HTTP 404) : vérifiez QA_LLM_URL")
    return f"answered HTTP {status}: {_snippet(text)}", f"a répondu HTTP {status} : {_snippet(text)}"


def _snippet(text: str, n: int = 120) -> str:
    text = " ".join(str(text).split())
    return repr(text[:n] + ("…" if len(text) > n else ""))


# -- reading what a model wrote ------------------------------------------------------------------
_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*|\s*```\s*$")


def loads_lenient(text: str):
    """The JSON value in a model's reply, or None: the reply itself, else the first object or list in
    it (after prose or a ```json fence), else that value cut short (max_tokens reached) and closed."""
    text = _FENCE.sub("", text or "").strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    text = text[min(starts):]
    try:
        return json.JSONDecoder().raw_decode(text)[0]
    except ValueError:
        return _close(text)


def _close(text: str):
    """A JSON text cut short, closed: at its end if that parses, else at the last comma between values."""
    stack, in_string, escaped, cuts = [], False, False, []
    for i, ch in enumerate(text):
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
        elif ch == ",":
            cuts.append((i, "".join(reversed(stack))))
    tail = ('"' if in_string and not escaped else "") + "".join(reversed(stack))
    for candidate in [text.rstrip().rstrip(",:") + tail] + [text[:i] + closers for i, closers in reversed(cuts[-20:])]:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None
