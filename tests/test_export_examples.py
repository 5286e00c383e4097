"""export/: the example TensorFlow Serving requests and export/check_export.py, on a real export.

One English parity model is trained (200 steps: >= 99% on held-out numbers) and exported once for
the module. No German model is trained: it needs about 1000 steps (~40 s) to answer every German
request word right, and at 200 steps it still misses some. So parity_de.json is checked for its
format and its truth (num2words wrote its words, its labels are their numbers' parity), and for
being parsed and answered in TF Serving's response shape by the English export, without
comparing the answers. (`keras-estimator train --lang de --steps 1000` then `export` passes it.)

The script runs as a subprocess wherever its being standalone matters; TF Serving itself is not
available here, so --url is exercised against a small local server that speaks its REST protocol
(model metadata, predict, {"error": ...} answers) over the same real export.
"""

from __future__ import annotations

import base64
import http.server
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading

import pytest
import tensorflow as tf
from num2words import num2words

import keras_estimator as ke
from keras_estimator.numbers import build_model, input_fn, serving_input_receiver_fn

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "export" / "check_export.py"
REQUESTS = ROOT / "export" / "requests"
PARAMS = {"lang": "en", "targets": ["parity"], "model": "gru", "units": 32, "embedding_dim": 16,
          "learning_rate": 1e-2, "batch_size": 64}
# Runs the script as __main__ in a fresh interpreter, then proves it never imported the packages
# named in sys.argv[1] (comma-separated).
STANDALONE = """
import runpy, sys
forbidden = set(sys.argv[1].split(","))
sys.argv = sys.argv[2:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as e:
    code = e.code
leaked = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
if leaked:
    print("IMPORTED", leaked, file=sys.stderr)
    sys.exit(3)
sys.exit(code)
"""


def request_files() -> list[pathlib.Path]:
    return sorted(p for p in REQUESTS.glob("*.json") if not p.name.endswith(".expected.json"))


def clean_env() -> dict[str, str]:
    """The environment without PYTHONPATH (the script must not need it) or TensorFlow's log
    level (the script picks its own quiet default)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL")}


def script_command(args: tuple[str, ...], forbidden: str | None) -> list[str]:
    """`python check_export.py ARGS`, or through STANDALONE when `forbidden` names packages."""
    wrapper = ["-c", STANDALONE, forbidden] if forbidden else []
    return [sys.executable, *wrapper, str(SCRIPT), *args]


def run_script(*args: str, forbidden: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(script_command(args, forbidden), capture_output=True, text=True, timeout=120, env=clean_env())


def start_script(*args: str, forbidden: str | None = None, cwd: pathlib.Path | None = None) -> subprocess.Popen:
    return subprocess.Popen(script_command(args, forbidden), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=clean_env(), cwd=cwd)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def script():
    """check_export.py as a module, for the checks that need no separate process."""
    spec = importlib.util.spec_from_file_location("check_export", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Its dataclasses look their module up while it loads.
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def english_export(tmp_path_factory) -> tuple[pathlib.Path, pathlib.Path]:
    """(export base, version directory) of a trained English parity model."""
    tmp = tmp_path_factory.mktemp("export_examples")
    est = ke.model_to_estimator(build_model(PARAMS), model_dir=str(tmp / "m"))
    est.train(lambda: input_fn(PARAMS, ke.ModeKeys.TRAIN), steps=200)
    path = est.export_saved_model(str(tmp / "exports"), serving_input_receiver_fn(PARAMS)).decode()
    return tmp / "exports", pathlib.Path(path)


@pytest.fixture(scope="module")
def script_runs(english_export, tmp_path_factory):
    """The two TensorFlow-loading runs of the script, started together to halve the wait:
    "table": standalone, on the export base, --lang en, run outside the repo;
    "json": --json on the version directory, with a flipped copy of parity_en and the columnar
    request. Returns (runs, flipped request path)."""
    base, version = english_export
    tmp = tmp_path_factory.mktemp("flipped")
    flipped = tmp / "parity_en.json"
    shutil.copy(REQUESTS / "parity_en.json", flipped)
    expected = json.loads((REQUESTS / "parity_en.expected.json").read_text())
    expected["parity"][1] = "odd"  # "Forty-Two" is even.
    (tmp / "parity_en.expected.json").write_text(json.dumps(expected))
    elsewhere = tmp_path_factory.mktemp("cwd")  # Under neither the repo nor tmp: paths print in full.
    table = start_script(str(base), "--lang", "en", forbidden="keras_estimator", cwd=elsewhere)
    as_json = start_script("--json", str(version), str(flipped), str(REQUESTS / "parity_en_columnar.json"), cwd=elsewhere)
    return {"table": finish(table), "json": finish(as_json)}, flipped


def request_words(doc: dict) -> list[str]:
    """The words of a request body, read by the REST format's rules (independently of the script)."""
    assert set(doc) <= {"signature_name", "instances", "inputs"}, sorted(doc)
    assert ("instances" in doc) != ("inputs" in doc)
    assert doc.get("signature_name", "serving_default") == "serving_default"
    if "inputs" in doc:
        assert set(doc["inputs"]) == {"words"}
        words = doc["inputs"]["words"]
    else:
        instances = doc["instances"]
        objects = [isinstance(i, dict) for i in instances]
        assert all(objects) or not any(objects), "instances mix objects and plain values"
        words = [i["words"] for i in instances] if all(objects) else instances
        assert all(not isinstance(i, dict) or set(i) == {"words"} for i in instances)
    assert words and all(isinstance(w, str) for w in words)
    return words


@pytest.mark.parametrize("path", request_files(), ids=lambda p: p.name)
def test_request_file_is_rest_json_with_one_true_label_per_instance(path, script):
    doc = json.loads(path.read_text(encoding="utf-8"))
    words = request_words(doc)
    expected = json.loads((REQUESTS / (path.name[:-len(".json")] + ".expected.json")).read_text(encoding="utf-8"))
    assert len(expected["parity"]) == len(expected["numbers"]) == len(words)
    lang = path.name.split("_")[1].split(".")[0]
    for word, number, label in zip(words, expected["numbers"], expected["parity"]):
        assert word.lower() == num2words(number, lang=lang).lower(), (word, number)
        assert label == ("odd" if number % 2 else "even"), (word, label)
    assert set(expected["parity"]) == {"even", "odd"}
    assert script.parse_predict_request(doc)[1] == [w.encode() for w in words]


def test_request_files_cover_both_formats_both_instance_forms_and_two_languages():
    names = {p.name for p in request_files()}
    assert {"parity_en.json", "parity_en_columnar.json", "parity_de.json"} <= names
    en = json.loads((REQUESTS / "parity_en.json").read_text())
    assert all(isinstance(i, str) for i in en["instances"])
    assert any(w != w.lower() for w in en["instances"]), "some mixed-case words"
    assert all(isinstance(i, dict) for i in json.loads((REQUESTS / "parity_de.json").read_text())["instances"])
    assert "inputs" in json.loads((REQUESTS / "parity_en_columnar.json").read_text())


def test_script_passes_the_english_requests_on_the_export_base_without_keras_estimator(script_runs):
    run = script_runs[0]["table"]
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""  # TensorFlow's start-up logs are kept off stderr.
    assert "(highest of 1 version)" in run.stdout
    for name in ("parity_en.json", "parity_en_columnar.json"):
        assert str(REQUESTS / name) in run.stdout
    assert "parity_de.json" not in run.stdout
    assert "word" in run.stdout and "P(odd)" in run.stdout and "expected" in run.stdout
    assert "Forty-Two" in run.stdout and "ONE THOUSAND" in run.stdout
    assert "all 12 predictions match the expected answers" in run.stdout


def test_a_wrong_expectation_exits_1_naming_the_word(script_runs):
    run, flipped = script_runs
    result = run["json"]
    assert result.returncode == 1, result.stderr
    mismatches = [line for line in result.stderr.splitlines() if line.startswith("mismatch:")]
    assert len(mismatches) == 1, result.stderr
    assert "'Forty-Two' (42): predicted even" in mismatches[0] and "expected odd" in mismatches[0]
    assert "parity_en.json" in mismatches[0]


def test_json_prints_tf_serving_shaped_responses(script_runs):
    run, flipped = script_runs
    responses = json.loads(run["json"].stdout)
    assert list(responses) == [str(flipped), str(REQUESTS / "parity_en_columnar.json")]
    row, columnar = responses.values()
    # One output: TF Serving drops its name; parity is [B, 1], so each answer is [p].
    assert list(row) == ["predictions"] and len(row["predictions"]) == 8
    assert list(columnar) == ["outputs"] and len(columnar["outputs"]) == 4
    for answer in row["predictions"] + columnar["outputs"]:
        assert isinstance(answer, list) and len(answer) == 1 and 0.0 <= answer[0] <= 1.0
    assert row["predictions"][1][0] < 0.5 < row["predictions"][0][0]  # "Forty-Two" even, "seven" odd.


@pytest.mark.parametrize("body", [
    '{"instances": [1, 2]}',
    '{"foo": 1}',
    '{"instances": []}',
    '{"inputs": {"words": "seven"}}',
    '{"instances": ["seven", {"words": "eight"}]}',
    "{not json",
], ids=["numbers", "no-instances-or-inputs", "empty", "scalar-inputs", "mixed-forms", "not-json"])
def test_an_invalid_request_exits_2_with_one_line(body, tmp_path, english_export):
    request = tmp_path / "bad.json"
    request.write_text(body)
    result = run_script(str(english_export[0]), str(request))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("check_export.py: error: ") and "bad.json" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["{empty}"], "holds no SavedModel"),
    (["{empty}/missing"], "does not exist"),
    ([], "give EXPORT_DIR"),
    (["{export}", "--lang", "xx"], "no request files"),
    (["{export}", "--bogus"], "unrecognized arguments"),
    (["--url", "http://localhost:8501/", "--lang", "en"], "expected the model URL"),
])
def test_usage_errors_exit_2_with_one_line(args, message, tmp_path, english_export):
    args = [a.format(empty=tmp_path, export=english_export[0]) for a in args]
    result = run_script(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def save_module(path: pathlib.Path, input_name: str, outputs: tuple[str, ...]) -> pathlib.Path:
    """A real SavedModel whose serving_default takes [None] strings `input_name` and gives
    `outputs` ([B, 1] floats): the shapes a wrong export could have."""
    module = tf.Module()

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=input_name)])
    def serve(x):
        lengths = tf.cast(tf.strings.length(x), tf.float32)[:, None]
        return {name: tf.sigmoid(lengths) for name in outputs}

    module.serve = serve
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve.get_concrete_function()})
    return path


@pytest.mark.parametrize("input_name, outputs, request_body, message", [
    ("words", ("magnitude",), '{"instances": ["seven"]}', "has no output 'parity' (outputs: magnitude)"),
    ("text", ("parity",), '{"instances": ["seven"]}', "takes ['text'], not the single input 'words'"),
    ("words", ("parity",), '{"signature_name": "classify", "instances": ["seven"]}', "no signature 'classify'"),
])
def test_an_export_without_the_words_signature_or_parity_output_exits_2(
    input_name, outputs, request_body, message, script, tmp_path, capsys
):
    export = save_module(tmp_path / "base" / "7", input_name, outputs)
    request = tmp_path / "request.json"
    request.write_text(request_body)
    assert script.main([str(export.parent), str(request)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and str(export) in err, err


def test_multiple_outputs_are_objects_keyed_by_name(script, tmp_path, capsys):
    export = save_module(tmp_path / "multi" / "1", "words", ("magnitude", "parity"))
    row = tmp_path / "row.json"
    row.write_text('{"instances": [{"words": "one"}, {"b64": "%s"}]}' % base64.b64encode(b"three").decode())
    columnar = tmp_path / "columnar.json"
    columnar.write_text('{"inputs": ["one", "three"]}')
    assert script.main(["--json", str(export), str(row), str(columnar)]) == 2  # Mixed instance forms.
    row.write_text('{"instances": ["one", {"b64": "%s"}]}' % base64.b64encode(b"three").decode())
    assert script.main(["--json", str(export), str(row), str(columnar)]) == 0
    responses = list(json.loads(capsys.readouterr().out).values())
    assert [sorted(p) for p in responses[0]["predictions"]] == [["magnitude", "parity"]] * 2
    assert sorted(responses[1]["outputs"]) == ["magnitude", "parity"]
    assert len(responses[1]["outputs"]["parity"]) == 2
    # The b64 instance was decoded: its answer is the one for "three", like the columnar one.
    assert responses[0]["predictions"][1]["parity"] == responses[1]["outputs"]["parity"][1]


def test_german_requests_are_parsed_and_answered_in_tf_serving_shape(script, english_export):
    request = script.load_request(REQUESTS / "parity_de.json")
    assert request.words[3] == "Zwölf".encode() and request.expected[3] == "even"
    predictor = script.SavedModelPredictor(*script.resolve_export(str(english_export[0])))
    signature = predictor.signature(request.signature_name)
    script.check_signature(signature, predictor.where)
    response = predictor.predict(request)
    assert list(response) == ["predictions"] and len(response["predictions"]) == len(request.words)
    probabilities = script.parity_probabilities(response, request, signature)
    assert all(0.0 <= p <= 1.0 for p in probabilities)  # An English model: answers, not checked.


class _ServingStandIn(http.server.BaseHTTPRequestHandler):
    """TF Serving's REST API for one model named "numbers", over a SavedModelPredictor."""

    script = predictor = None

    def do_GET(self):
        if self.path != "/v1/models/numbers/metadata":
            return self._answer(404, {"error": "Servable not found for request: Latest(nope)"})
        signature = self.predictor.signature("serving_default")
        definition = {"inputs": {k: {"dtype": v} for k, v in signature.inputs.items()},
                      "outputs": {k: {"dtype": "DT_FLOAT"} for k in signature.outputs}}
        self._answer(200, {"model_spec": {"name": "numbers"},
                           "metadata": {"signature_def": {"signature_def": {"serving_default": definition}}}})

    def do_POST(self):
        if self.path != "/v1/models/numbers:predict":
            return self._answer(404, {"error": "Servable not found"})
        body = self.rfile.read(int(self.headers["Content-Length"]))
        signature_name, words, row_format = self.script.parse_predict_request(json.loads(body))
        request = self.script.Request("posted", body, signature_name, words, row_format, None, None)
        self._answer(200, self.predictor.predict(request))

    def _answer(self, status: int, doc: dict) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # Quiet.
        pass


def test_url_sends_the_requests_to_a_rest_server_without_tensorflow(script, english_export):
    _ServingStandIn.script = script
    _ServingStandIn.predictor = script.SavedModelPredictor(english_export[1])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ServingStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1/models"
        result = run_script("--url", f"{url}/numbers:predict", "--lang", "en", forbidden="keras_estimator,tensorflow,numpy")
        assert result.returncode == 0, result.stderr
        assert f"server: {url}/numbers" in result.stdout
        assert "all 12 predictions match the expected answers" in result.stdout
        missing = run_script("--url", f"{url}/nope", "--lang", "en")
        assert missing.returncode == 2 and missing.stderr.count("\n") == 1
        assert "HTTP 404: Servable not found for request" in missing.stderr
    finally:
        server.shutdown()
        server.server_close()
