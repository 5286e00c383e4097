#!/usr/bin/env python3
"""Check a numbers parity export against the example TensorFlow Serving requests.

Reads TF Serving REST predict requests (by default every export/requests/*.json), parses each as
TF Serving parses it for a signature whose single input is the string batch `words`, answers it
from the SavedModel in process (or from a live TF Serving with --url), prints each word's
probability of being odd and compares the `parity` predictions (odd when P(odd) > 0.5) with the
`<name>.expected.json` file next to the request.

    python export/check_export.py EXPORT_DIR [REQUEST.json ...] [--lang LANG] [--json]
    python export/check_export.py --url http://localhost:8501/v1/models/numbers [REQUEST.json ...]

EXPORT_DIR is a SavedModel directory or an export base holding numeric version directories (the
highest is used, as TF Serving does). Exit status: 0 when every prediction matches, 1 when some
differ (each listed on stderr), 2 for a usage error (one line on stderr).

Imports only the standard library, numpy and TensorFlow (neither of the last two with --url),
never keras_estimator: it runs wherever the export is to be served.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import os
import pathlib
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence

REQUESTS_DIR = pathlib.Path(__file__).resolve().parent / "requests"
EXPECTED_SUFFIX = ".expected.json"
DEFAULT_SIGNATURE = "serving_default"
INPUT = "words"
OUTPUT = "parity"
THRESHOLD = 0.5  # Odd when P(odd) > 0.5, the threshold of Keras' BinaryAccuracy.
LABELS = ("even", "odd")
HTTP_TIMEOUT_S = 30.0
MODEL_URL = re.compile(r"https?://[^/]+/v1/models/[^/:]+(/versions/[0-9]+|/labels/[^/:]+)?")
PROG = "check_export.py"


class UsageError(Exception):
    """A bad argument, request or expected file, export or server answer: exit status 2."""


@dataclass(frozen=True)
class Request:
    """One request file, parsed as TF Serving parses it, with its expected answers.

    Attributes:
        path: The file, as shown in messages.
        body: Its bytes, sent unchanged to a live server.
        signature_name: The signature it asks for (TF Serving's default when it names none).
        words: The `words` batch in instance order (bytes, as TF Serving feeds DT_STRING).
        row_format: True for "instances" (answered with "predictions"), False for "inputs"
            (answered with "outputs").
        expected: "even" or "odd" per word, or None when the request has no expected file.
        numbers: The numbers the words stand for, when the expected file lists them.
    """

    path: str
    body: bytes
    signature_name: str
    words: list[bytes]
    row_format: bool
    expected: list[str] | None
    numbers: list[int] | None


@dataclass(frozen=True)
class Signature:
    """What a signature takes and gives: input names with dtypes ("DT_STRING"), output names."""

    name: str
    inputs: dict[str, str]
    outputs: list[str]


@dataclass(frozen=True)
class Row:
    """One word's answer: P(odd), the predicted label and the expected one (None: unchecked)."""

    word: str
    number: int | None
    probability: float
    predicted: str
    expected: str | None

    @property
    def ok(self) -> bool | None:
        return None if self.expected is None else self.predicted == self.expected


class Predictor(Protocol):
    label: str  # The header line: what answers.
    where: str  # What answers, in error messages.

    def signature(self, name: str) -> Signature: ...

    def predict(self, request: Request) -> dict[str, Any]: ...


# --- Requests -------------------------------------------------------------------------------


def parse_predict_request(doc: Any) -> tuple[str, list[bytes], bool]:
    """Parses a decoded predict request body by TF Serving's REST rules for a signature whose
    single input is `words` (DT_STRING, shape [None]).

    Row format: {"instances": [...]} with plain strings or {"words": "..."} objects (not mixed).
    Columnar: {"inputs": [...]} or {"inputs": {"words": [...]}}. Strings may be {"b64": "..."}
    objects. "signature_name" is optional; other keys are ignored, as TF Serving ignores them.

    Args:
        doc: The JSON body, decoded.

    Returns:
        (signature name, words, True for row format).

    Raises:
        ValueError: saying what TF Serving would reject.
    """
    if not isinstance(doc, dict):
        raise ValueError(f"a predict request is a JSON object, not {_json_type(doc)}")
    signature_name = doc.get("signature_name", "")
    if not isinstance(signature_name, str):
        raise ValueError("'signature_name' must be a string")
    signature_name = signature_name or DEFAULT_SIGNATURE
    if "instances" in doc and "inputs" in doc:
        raise ValueError("has both 'instances' and 'inputs'; TF Serving takes exactly one")
    if "instances" in doc:
        return signature_name, _row_words(doc["instances"]), True
    if "inputs" in doc:
        return signature_name, _columnar_words(doc["inputs"]), False
    raise ValueError("has neither 'instances' (row format) nor 'inputs' (columnar format)")


def _row_words(instances: Any) -> list[bytes]:
    if not isinstance(instances, list) or not instances:
        raise ValueError("'instances' must be a non-empty list")
    named = _is_named_object(instances[0])  # TF Serving decides the form from the first one.
    words = []
    for i, item in enumerate(instances):
        if _is_named_object(item) != named:
            raise ValueError(f"instance {i} mixes objects and plain values; use one form for all instances")
        if named:
            if set(item) != {INPUT}:
                raise ValueError(f"instance {i} has keys {sorted(item)}; an object instance has exactly the key {INPUT!r}")
            item = item[INPUT]
        words.append(_string(item, f"instance {i}"))
    return words


def _columnar_words(inputs: Any) -> list[bytes]:
    if _is_named_object(inputs):
        if INPUT not in inputs:
            raise ValueError(f"'inputs' has no key {INPUT!r} (keys: {sorted(inputs)})")
        inputs = inputs[INPUT]
    if not isinstance(inputs, list) or not inputs:
        raise ValueError(f"'inputs' must give {INPUT!r} as a non-empty list of strings (its shape is [None])")
    return [_string(value, f"inputs[{i}]") for i, value in enumerate(inputs)]


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _is_named_object(value: Any) -> bool:
    # TF Serving reads any object but {"b64": ...} as a map from input names to values.
    return isinstance(value, dict) and not _is_b64(value)


def _string(value: Any, where: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", "replace")
    if _is_b64(value):
        try:
            return base64.b64decode(value["b64"], validate=True)
        except binascii.Error:
            raise ValueError(f"{where}: the 'b64' value is not valid base64") from None
    shown = json.dumps(value, ensure_ascii=False)
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    raise ValueError(f"{where}: {shown} is {_json_type(value)}, not a string; {INPUT!r} takes one string per instance")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def expected_path(request_path: pathlib.Path) -> pathlib.Path:
    """`x.json` -> `x.expected.json`, next to it."""
    stem = request_path.name[: -len(".json")] if request_path.name.endswith(".json") else request_path.name
    return request_path.with_name(stem + EXPECTED_SUFFIX)


def load_expected(path: pathlib.Path, count: int) -> tuple[list[str] | None, list[int] | None]:
    """The expected labels (and numbers, when listed) of a request with `count` words.

    The file is {"parity": ["even" | "odd", ...], "numbers": [int, ...] (optional)}.

    Returns:
        (None, None) when the file does not exist.

    Raises:
        UsageError: naming the file, if it is unreadable, not of that form, or its lists do not
            have one entry per word.
    """
    if not path.exists():
        return None, None
    doc = _read_json(path)
    labels = doc.get(OUTPUT) if isinstance(doc, dict) else None
    if not isinstance(labels, list) or any(label not in LABELS for label in labels):
        raise UsageError(f"{path}: expected answers are {{{OUTPUT!r}: [\"even\" | \"odd\", ...]}}")
    if len(labels) != count:
        raise UsageError(f"{path}: {_count(len(labels), 'label')} for {_count(count, 'word')}")
    numbers = doc.get("numbers")
    if numbers is not None:
        if not isinstance(numbers, list) or any(type(n) is not int or n < 0 for n in numbers):
            raise UsageError(f"{path}: 'numbers' must be a list of non-negative integers")
        if len(numbers) != count:
            raise UsageError(f"{path}: {_count(len(numbers), 'number')} for {_count(count, 'word')}")
    return labels, numbers


def load_request(path: pathlib.Path) -> Request:
    """Reads a request file and its `.expected.json` sibling (if any).

    Raises:
        UsageError: naming the file, if either is unreadable or invalid (see
            `parse_predict_request` and `load_expected`).
    """
    shown = _shown(path)
    body = _read(path)
    doc = _decode_json(body, shown)
    try:
        signature_name, words, row_format = parse_predict_request(doc)
    except ValueError as e:
        raise UsageError(f"{shown}: not a TF Serving predict request for {INPUT!r}: {e}") from None
    expected, numbers = load_expected(expected_path(path), len(words))
    return Request(shown, body, signature_name, words, row_format, expected, numbers)


def request_paths(given: Sequence[str], lang: str | None) -> list[pathlib.Path]:
    """The request files to check: `given`, or every request in export/requests/; with `lang`,
    only those named `parity_<lang>.json` or `parity_<lang>_*.json`.

    Raises:
        UsageError: if none is left.
    """
    if given:
        paths = [pathlib.Path(p) for p in given]
    else:
        paths = sorted(p for p in REQUESTS_DIR.glob("*.json") if not p.name.endswith(EXPECTED_SUFFIX))
    if lang:
        pattern = re.compile(rf"parity_{re.escape(lang)}(\.|_.*\.)json")
        paths = [p for p in paths if pattern.fullmatch(p.name)]
    if not paths:
        where = "given" if given else f"in {REQUESTS_DIR}"
        raise UsageError(f"no request files {where}" + (f" for --lang {lang}" if lang else ""))
    return paths


def _read(path: pathlib.Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise UsageError(f"{_shown(path)}: cannot read it ({e.strerror or e})") from None


def _decode_json(body: bytes, shown: str) -> Any:
    try:
        return json.loads(body)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError both are.
        raise UsageError(f"{shown}: not valid JSON ({e})") from None


def _read_json(path: pathlib.Path) -> Any:
    return _decode_json(_read(path), _shown(path))


def _shown(path: pathlib.Path) -> str:
    try:
        return str(path.resolve().relative_to(pathlib.Path.cwd()))
    except ValueError:
        return str(path)


# --- Exports and signatures -------------------------------------------------------------------


def resolve_export(directory: str) -> tuple[pathlib.Path, str]:
    """The SavedModel to load and a note on how it was chosen: `directory` itself when it holds
    saved_model.pb, else its highest numeric version directory (what TF Serving serves when
    `directory` is the model base path).

    Raises:
        UsageError: if the directory does not exist, holds neither, or its highest version has
            no saved_model.pb (TF Serving would fail to load it too).
    """
    path = pathlib.Path(directory)
    if not path.is_dir():
        raise UsageError(f"export directory {directory} does not exist")
    if (path / "saved_model.pb").is_file():
        return path, "SavedModel"
    versions = [p for p in path.iterdir() if p.is_dir() and re.fullmatch(r"[0-9]+", p.name)]
    if not versions:
        raise UsageError(f"{directory} holds no SavedModel: no saved_model.pb and no numeric version directories")
    latest = max(versions, key=lambda p: int(p.name))
    if not (latest / "saved_model.pb").is_file():
        raise UsageError(f"{latest}: the highest version directory has no saved_model.pb")
    return latest, f"highest of {len(versions)} version{'s' * (len(versions) > 1)}"


def check_signature(signature: Signature, where: str) -> None:
    """Checks that `signature` takes the single string input `words` and gives `parity`.

    Raises:
        UsageError: saying what is missing, and where.
    """
    if set(signature.inputs) != {INPUT}:
        raise UsageError(
            f"{where}: signature {signature.name!r} takes {sorted(signature.inputs)}, "
            f"not the single input {INPUT!r} these requests give"
        )
    if signature.inputs[INPUT] != "DT_STRING":
        raise UsageError(f"{where}: input {INPUT!r} is {signature.inputs[INPUT]}, not DT_STRING")
    if OUTPUT not in signature.outputs:
        raise UsageError(
            f"{where}: signature {signature.name!r} has no output {OUTPUT!r} (outputs: "
            f"{', '.join(signature.outputs) or 'none'}); export a model trained with the parity target"
        )


def import_tensorflow() -> Any:
    """TensorFlow, imported without its start-up chatter on stderr.

    Raises:
        UsageError: if it is not installed.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # Later C++ logs; the user's choice wins.
    with _native_stderr_silenced():
        try:
            import tensorflow as tf
        except ImportError as e:
            raise UsageError(f"TensorFlow cannot be imported in {sys.executable}: {e}") from None
    return tf


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Points file descriptor 2 at the null device: TensorFlow's C++ start-up logs ignore
    TF_CPP_MIN_LOG_LEVEL and would bury the one line this script prints on an error."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # No stderr to silence.
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class SavedModelPredictor:
    """Answers requests from a SavedModel loaded in process, shaped as TF Serving's REST API.

    Args:
        export_dir: A SavedModel directory.
        note: How it was chosen, for the header line.

    Raises:
        UsageError: if TensorFlow is missing or cannot load the SavedModel.
    """

    def __init__(self, export_dir: pathlib.Path, note: str = "SavedModel"):
        self._tf = import_tensorflow()
        self.label = f"export: {export_dir} ({note})"
        self.where = str(export_dir)
        with _native_stderr_silenced():
            try:
                self._model = self._tf.saved_model.load(str(export_dir))
            except Exception as e:  # TensorFlow raises many kinds; all mean "cannot load".
                raise UsageError(f"{export_dir}: TensorFlow cannot load it: {_first_line(e)}") from None

    def signature(self, name: str) -> Signature:
        """Raises UsageError if the SavedModel has no signature `name`."""
        signatures = self._model.signatures
        if name not in signatures:
            raise UsageError(f"{self.where}: no signature {name!r} (it has: {', '.join(signatures) or 'none'})")
        function = signatures[name]
        inputs = {k: "DT_" + spec.dtype.name.upper() for k, spec in function.structured_input_signature[1].items()}
        return Signature(name, inputs, sorted(function.structured_outputs))

    def predict(self, request: Request) -> dict[str, Any]:
        """The REST response TF Serving would give. Raises UsageError if the signature fails."""
        function = self._model.signatures[request.signature_name]
        try:
            outputs = function(**{INPUT: self._tf.constant(request.words, self._tf.string)})
        except Exception as e:  # e.g. InvalidArgumentError from the graph.
            raise UsageError(f"{request.path}: the signature failed: {_first_line(e)}") from None
        return rest_response({name: tensor.numpy() for name, tensor in outputs.items()}, request.row_format)


class ServerPredictor:
    """Sends requests to a live TF Serving REST endpoint and reads its model metadata.

    Args:
        url: The model's REST URL, http(s)://HOST:PORT/v1/models/NAME, optionally with
            /versions/N or /labels/LABEL; a trailing ":predict" is accepted.

    Raises:
        UsageError: for a URL of another form.
    """

    def __init__(self, url: str):
        base = url.rstrip("/")
        base = base[: -len(":predict")] if base.endswith(":predict") else base
        if not MODEL_URL.fullmatch(base):
            raise UsageError(f"--url {url}: expected the model URL, like http://localhost:8501/v1/models/numbers")
        self._base = base
        self._signatures: dict[str, Any] | None = None
        self.label = f"server: {base}"
        self.where = base

    def signature(self, name: str) -> Signature:
        """From GET <url>/metadata. Raises UsageError if unreachable, malformed or missing."""
        if self._signatures is None:
            metadata = _http_json(self._base + "/metadata")
            try:
                self._signatures = dict(metadata["metadata"]["signature_def"]["signature_def"])
            except (KeyError, TypeError, ValueError):
                raise UsageError(f"{self._base}/metadata: not a TF Serving model metadata answer") from None
        definition = self._signatures.get(name)
        if not isinstance(definition, dict):
            raise UsageError(f"{self.where}: no signature {name!r} (it has: {', '.join(self._signatures) or 'none'})")
        try:
            inputs = {k: str(v.get("dtype", "")) for k, v in definition.get("inputs", {}).items()}
            outputs = sorted(definition.get("outputs", {}))
        except (AttributeError, TypeError):  # Not the maps a SignatureDef has.
            raise UsageError(f"{self._base}/metadata: signature {name!r} is not a SignatureDef") from None
        return Signature(name, inputs, outputs)

    def predict(self, request: Request) -> dict[str, Any]:
        """POSTs the request file unchanged. Raises UsageError for an error answer."""
        return _http_json(self._base + ":predict", request.body)


def _http_json(url: str, body: bytes | None = None) -> Any:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    http_request = urllib.request.Request(url, data=body, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(http_request, timeout=HTTP_TIMEOUT_S) as answer:
            text = answer.read()
    except urllib.error.HTTPError as e:
        raise UsageError(f"{url}: HTTP {e.code}: {_server_error(e.read())}") from None
    except OSError as e:  # URLError, timeouts, refused connections.
        raise UsageError(f"cannot reach {url}: {getattr(e, 'reason', e)}") from None
    try:
        return json.loads(text)
    except ValueError:
        raise UsageError(f"{url}: the answer is not JSON") from None


def _server_error(text: bytes) -> str:
    try:
        return _first_line(json.loads(text)["error"])
    except (ValueError, KeyError, TypeError):  # Not TF Serving's {"error": ...}.
        return _first_line(text.decode("utf-8", "replace")) or "(no message)"


def _first_line(message: object) -> str:
    lines = str(message).strip().splitlines()
    return lines[0] if lines else ""


# --- Responses ---------------------------------------------------------------------------------


def rest_response(outputs: dict[str, Any], row_format: bool) -> dict[str, Any]:
    """The JSON TF Serving's REST API answers with, given the signature's output arrays.

    Row format: {"predictions": [...]}, one entry per instance: the bare value when the signature
    has one output, else an object keyed by output name. Columnar: {"outputs": ...}: the bare
    tensor when there is one output, else an object keyed by output name.

    Args:
        outputs: Output name -> numpy array with the batch as its first dimension.
        row_format: Whether the request was in row format.
    """
    names = sorted(outputs)
    values = {name: _json_tensor(outputs[name]) for name in names}
    if not row_format:
        return {"outputs": values[names[0]] if len(names) == 1 else values}
    if len(names) == 1:
        return {"predictions": values[names[0]]}
    return {"predictions": [{name: values[name][i] for name in names} for i in range(len(values[names[0]]))]}


def _json_tensor(array: Any) -> Any:
    if getattr(array, "ndim", 0) == 0:
        return _json_scalar(array[()] if hasattr(array, "ndim") else array)
    return [_json_tensor(item) for item in array]


def _json_scalar(value: Any) -> Any:
    import numpy as np  # Only offline: --url needs no numpy.

    if isinstance(value, np.floating):
        return _decimal(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value.item() if isinstance(value, np.generic) else value


def _decimal(value: Any) -> float:
    """A float as TF Serving writes it: six significant digits when they round-trip in the
    tensor's precision, else all its digits (max_digits10), so 0.2f prints as 0.2."""
    import numpy as np

    if not np.isfinite(value):
        return float(value)  # json writes NaN / Infinity, as TF Serving does.
    text = f"{float(value):g}"
    if type(value)(text) != value:
        text = f"{float(value):.{9 if value.dtype.itemsize <= 4 else 17}g}"
    return float(text)


def parity_probabilities(response: Any, request: Request, signature: Signature) -> list[float]:
    """P(odd) per word, read from a REST response of the shape TF Serving gives.

    Raises:
        UsageError: if the response is not of that shape or has not one answer per word.
    """
    alone = signature.outputs == [OUTPUT]  # A single output is given without its name.
    key = "predictions" if request.row_format else "outputs"
    try:
        answers = response[key]
        if not alone:
            answers = [answer[OUTPUT] for answer in answers] if request.row_format else answers[OUTPUT]
        probabilities = [_one_number(answer) for answer in answers]
    except (KeyError, TypeError, IndexError, ValueError):
        raise UsageError(f"{request.path}: the response has no {OUTPUT!r} under {key!r} in TF Serving's shape") from None
    if len(probabilities) != len(request.words):
        raise UsageError(f"{request.path}: {_count(len(probabilities), 'answer')} for {_count(len(request.words), 'word')}")
    return probabilities


def _one_number(answer: Any) -> float:
    if isinstance(answer, list) and len(answer) == 1:  # parity is [B, 1]: one value per word.
        answer = answer[0]
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise ValueError(f"not a probability: {answer!r}")
    return float(answer)


# --- Checking and output -------------------------------------------------------------------------


def compare(request: Request, probabilities: Sequence[float]) -> list[Row]:
    """One row per word: P(odd), the label it predicts and the expected one."""
    rows = []
    for i, (word, probability) in enumerate(zip(request.words, probabilities)):
        rows.append(Row(
            word=word.decode("utf-8", "replace"),
            number=request.numbers[i] if request.numbers else None,
            probability=probability,
            predicted=LABELS[int(probability > THRESHOLD)],
            expected=request.expected[i] if request.expected else None,
        ))
    return rows


def format_table(request: Request, rows: Sequence[Row]) -> str:
    """The request's header line and a plain-text table of its rows."""
    form = "row format" if request.row_format else "columnar format"
    header = ["word"] + (["number"] if request.numbers else []) + ["P(odd)", "predicted", "expected", "ok"]
    body = []
    for row in rows:
        cells = [row.word] + ([str(row.number)] if request.numbers else [])
        ok = "-" if row.ok is None else ("yes" if row.ok else "NO")
        body.append(cells + [f"{row.probability:.3f}", row.predicted, row.expected or "-", ok])
    widths = [max(len(line[i]) for line in [header] + body) for i in range(len(header))]
    lines = [f"{request.path} ({form}, signature {request.signature_name}, {_count(len(rows), 'word')})"]
    for line in [header, ["-" * w for w in widths]] + body:
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    return "\n".join(lines)


def mismatch_lines(request: Request, rows: Sequence[Row]) -> list[str]:
    """One line per word whose prediction differs from its expected label."""
    lines = []
    for row in rows:
        if row.ok is False:
            number = f" ({row.number})" if row.number is not None else ""
            lines.append(
                f"mismatch: {request.path}: {row.word!r}{number}: predicted {row.predicted} "
                f"(P(odd)={row.probability:.3f}), expected {row.expected}"
            )
    return lines


def summary(all_rows: Sequence[Row]) -> str:
    """The last line of the table output: how many predictions match."""
    checked = [row for row in all_rows if row.ok is not None]
    wrong = sum(1 for row in checked if not row.ok)
    unchecked = len(all_rows) - len(checked)
    if not checked:
        return f"no expected answers: {_count(unchecked, 'word')} not checked"
    text = (f"{wrong} of {_count(len(checked), 'prediction')} differ from the expected answers" if wrong
            else f"all {_count(len(checked), 'prediction')} match the expected answers")
    return text + (f"; {_count(unchecked, 'word')} without expected answers not checked" if unchecked else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# --- Command line --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)  # One line, not argparse's usage block.


def build_parser() -> argparse.ArgumentParser:
    """The command line; its errors raise UsageError instead of exiting."""
    parser = _Parser(
        prog=PROG,
        usage=f"{PROG} [-h] [--lang LANG] [--json] EXPORT_DIR [REQUEST.json ...]\n"
              f"       {PROG} [-h] [--lang LANG] [--json] --url URL [REQUEST.json ...]",
        description="Check a numbers parity export (raw-words signature) against TF Serving REST requests.",
    )
    parser.add_argument("paths", nargs="*", metavar="EXPORT_DIR [REQUEST.json ...]",
                        help="the export (a SavedModel or an export base; not with --url), then "
                             "request files (default: every export/requests/*.json)")
    parser.add_argument("--lang", help="only request files named parity_<LANG>.json or parity_<LANG>_*.json")
    parser.add_argument("--url", help="ask a live TF Serving instead, e.g. http://localhost:8501/v1/models/numbers")
    parser.add_argument("--json", action="store_true", help="print the REST responses (keyed by request file) instead of the table")
    return parser


def run(args: argparse.Namespace) -> int:
    """Checks every request; returns the exit status (0 all match, 1 some differ).

    Raises:
        UsageError: for any usage error.
    """
    paths = list(args.paths)
    if not args.url and not paths:
        raise UsageError("give EXPORT_DIR (or --url URL)")
    if args.url and paths and pathlib.Path(paths[0]).is_dir():
        raise UsageError(f"--url replaces EXPORT_DIR; give request files only, not {paths[0]}")
    export_dir = None if args.url else paths.pop(0)
    requests = [load_request(path) for path in request_paths(paths, args.lang)]
    predictor: Predictor = (
        ServerPredictor(args.url) if args.url else SavedModelPredictor(*resolve_export(export_dir))
    )
    responses, tables, mismatches, all_rows = {}, [], [], []
    for request in requests:
        signature = predictor.signature(request.signature_name)
        check_signature(signature, predictor.where)
        response = predictor.predict(request)
        rows = compare(request, parity_probabilities(response, request, signature))
        responses[request.path] = response
        tables.append(format_table(request, rows))
        mismatches += mismatch_lines(request, rows)
        all_rows += rows
    if args.json:
        print(json.dumps(responses, indent=2, ensure_ascii=False))
    else:
        print("\n\n".join([predictor.label] + tables + [summary(all_rows)]))
    sys.stdout.flush()  # Table first, then the mismatches, when both go to a terminal.
    for line in mismatches:
        print(line, file=sys.stderr)
    return 1 if mismatches else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status (2 for usage errors, one line on stderr)."""
    try:
        return run(build_parser().parse_args(argv))
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # Output piped into `head`: stop quietly, as a filter should.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
