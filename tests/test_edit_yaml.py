"""The format-preserving YAML editor: byte-exact results, comment ownership, refusals."""

from __future__ import annotations

import pytest

from fleetmig.edit.yaml import YamlEditor
from fleetmig.errors import EditRefused, InputError


def edit(text: str) -> YamlEditor:
    return YamlEditor(text.encode(), "values.yaml")


def test_insert_creates_missing_parents_at_the_end_of_the_root_mapping() -> None:
    editor = edit("a: 1\n# trailing section comment\n")
    editor.insert("global.ameide.cluster", "type", "local")
    assert editor.text == "a: 1\nglobal:\n  ameide:\n    cluster:\n      type: local\n# trailing section comment\n"


def test_insert_follows_the_sibling_indentation() -> None:
    editor = edit("global:\n    x: 1\n")
    editor.insert("global", "w", {"z": [1, 2]})
    assert editor.text == "global:\n    x: 1\n    w:\n        z:\n        - 1\n        - 2\n"


def test_insert_uses_the_files_sequence_indent_style() -> None:
    editor = edit("a:\n  - 1\nb: 2\n")
    editor.insert("", "c", ["x"])
    assert editor.text == "a:\n  - 1\nb: 2\nc:\n  - x\n"


def test_insert_before_and_after_siblings_keeps_head_comments_with_their_keys() -> None:
    editor = edit("a: 1\n# about b\nb: 2\n")
    editor.insert("", "x", 0, before="b")
    editor.insert("", "w", 0, after="a")
    assert editor.text == "a: 1\nw: 0\nx: 0\n# about b\nb: 2\n"


def test_insert_into_a_null_mapping_value() -> None:
    editor = edit("global:   # filled by fleetmig\nb: 2\n")
    editor.insert("global", "k", "v")
    assert editor.text == "global:   # filled by fleetmig\n  k: v\nb: 2\n"


def test_insert_into_an_empty_flow_mapping_turns_it_into_a_block_and_keeps_its_comment() -> None:
    editor = edit("global: {}   # filled per layer\nb: 2\n")
    editor.insert("global.ameide", "k", "v")
    assert editor.text == "global:   # filled per layer\n  ameide:\n    k: v\nb: 2\n"


def test_move_into_an_empty_flow_mapping() -> None:
    editor = edit("cluster:\n  type: k3d\nglobal: {}\nz: 1\n")
    editor.move("cluster", "global.cluster")
    assert editor.text == "global:\n  cluster:\n    type: k3d\nz: 1\n"


def test_ensure_mapping_creates_the_path_and_tolerates_existing_mappings() -> None:
    editor = edit("a: 1\nglobal:\n  x: 1\n")
    editor.ensure_mapping("global")
    editor.ensure_mapping("global.ameide.cluster")
    assert editor.text == "a: 1\nglobal:\n  x: 1\n  ameide:\n    cluster: {}\n"
    editor.insert("global.ameide.cluster", "type", "local")
    assert editor.text == "a: 1\nglobal:\n  x: 1\n  ameide:\n    cluster:\n      type: local\n"
    with pytest.raises(EditRefused, match="holds a int"):
        editor.ensure_mapping("a")


def test_insert_keeps_crlf_bom_and_missing_final_newline() -> None:
    editor = YamlEditor("\ufeffa: 1\r\nb: 2".encode(), "v.yaml")
    editor.insert("", "c", 3)
    assert editor.to_bytes() == "\ufeffa: 1\r\nb: 2\r\nc: 3".encode()


def test_insert_at_the_end_never_adopts_a_trailing_comment_as_its_own() -> None:
    # A comment after the last key at the keys' column could head a future key; the new key goes
    # above it so the comment does not turn into the new key's head comment.
    text = "global:\n  x: 1\n  # about a future key\n\n# about other\nother: 2\n"
    editor = edit(text)
    editor.insert("global", "w", 2)
    assert editor.text == "global:\n  x: 1\n  w: 2\n  # about a future key\n\n# about other\nother: 2\n"


def test_go_template_text_in_untouched_lines_round_trips_verbatim() -> None:
    text = 'server: "http://vault-{{ .Release.Namespace }}.svc:8200"\nlist: [a, b]   # flow\n'
    editor = edit(text)
    editor.insert("", "new", "{{ .Values.x }}")
    assert editor.text.startswith(text)
    assert editor.get("new") == "{{ .Values.x }}"


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("on", '"on"'),
        ("yes", '"yes"'),
        ("010", '"010"'),
        ("1.0", '"1.0"'),
        ("", '""'),
        ("a: b", '"a: b"'),
        ("k3d-ameide", "k3d-ameide"),
        (True, "true"),
        (3, "3"),
        (None, "null"),
    ],
)
def test_scalars_are_quoted_when_a_yaml_1_1_reader_would_change_them(value: object, rendered: str) -> None:
    editor = edit("a: 1\n")
    editor.insert("", "k", value)
    assert editor.text == f"a: 1\nk: {rendered}\n"
    assert editor.get("k") == value


def test_move_to_new_parents_happens_in_place_with_head_and_inline_comments() -> None:
    text = "keep: 1\n# owned by cluster\ncluster:\n  type: k3d   # inline\n  name: x\n\n# section\nother: 2\n"
    editor = edit(text)
    editor.move("cluster", "global.ameide.cluster")
    assert editor.text == (
        "keep: 1\nglobal:\n  ameide:\n    # owned by cluster\n    cluster:\n"
        "      type: k3d   # inline\n      name: x\n\n# section\nother: 2\n"
    )


def test_move_renames_the_key() -> None:
    editor = edit("a:\n  b: 1\n  c: 2\n")
    editor.move("a.b", "a.d")
    assert editor.text == "a:\n  d: 1\n  c: 2\n"  # in place: same mapping


def test_move_of_a_block_scalar_keeps_its_content() -> None:
    editor = edit("x: 0\nscript: |\n  echo hi\n    indented\n\n  done\ny: 1\n")
    editor.move("script", "job.script")
    assert editor.get("job.script") == "echo hi\n  indented\n\ndone\n"


def test_add_comment_joins_the_key_head_comment_block() -> None:
    editor = edit("# header\n\n# owned\ncluster:\n  a: 1\n")
    editor.add_comment("cluster", "DEPRECATED")
    assert editor.text == "# header\n\n# owned\n# DEPRECATED\ncluster:\n  a: 1\n"


def test_move_inside_itself_nests_the_value_in_place() -> None:
    editor = edit("# head\nglobal:   # helm globals\n  imageRegistry: x\n  # about tags\n  tag: 1\nother: 2\n")
    editor.move("global", "global.ameide.global")
    assert editor.text == (
        "# head\nglobal:   # helm globals\n  ameide:\n    global:\n      imageRegistry: x\n"
        "      # about tags\n      tag: 1\nother: 2\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1  # one\nb: 2\n", "a:\n  x: 1  # one\nb: 2\n"),
        ("a: &anc {k: v}\nb: 2\n", "a:\n  x: &anc {k: v}\nb: 2\n"),
        ("a: |-\n  line\n  two\nb: 2\n", "a:\n  x: |-\n    line\n    two\nb: 2\n"),
        ("a:\n- 1\n- 2\nb: 2\n", "a:\n  x:\n  - 1\n  - 2\nb: 2\n"),
    ],
)
def test_nesting_carries_inline_values_anchors_and_block_scalars(text: str, expected: str) -> None:
    editor = edit(text)
    before = editor.get("a")
    editor.move("a", "a.x")
    assert editor.text == expected
    assert editor.get("a.x") == before


def test_set_keeps_the_quoting_style_and_the_inline_comment() -> None:
    editor = edit("a: 'x'   # single\nb: \"y\"\nc: plain\nd: 010\n")
    editor.set("a", "it's")
    editor.set("b", "z")
    editor.set("c", "on")
    editor.set("d", 8)
    assert editor.text == "a: 'it''s'   # single\nb: \"z\"\nc: \"on\"\nd: 8\n"


def test_set_replaces_a_subtree_in_the_surrounding_style_and_keeps_the_key_comment() -> None:
    editor = edit("keep: 1\n'image':   # pinned\n  repository: a\n  # old note\n  tag: v1\nnext: 2\n")
    editor.set("image", {"ref": "ghcr.io/x@sha256:" + "0" * 64, "pullPolicy": "IfNotPresent"})
    assert editor.text == (
        "keep: 1\n'image':  # pinned\n  ref: ghcr.io/x@sha256:" + "0" * 64 + "\n  pullPolicy: IfNotPresent\nnext: 2\n"
    )


def test_set_inserts_missing_keys_and_is_idempotent() -> None:
    editor = edit("a: 1\n")
    editor.set("b.c", "d")
    once = editor.text
    editor.set("b.c", "d")
    assert editor.text == once == "a: 1\nb:\n  c: d\n"


def test_set_multiline_text_as_a_literal_block() -> None:
    editor = edit("script: echo\nz: 1\n")
    editor.set("script", "set -e\necho hi\n")
    assert editor.text == "script: |\n  set -e\n  echo hi\nz: 1\n"


def test_delete_takes_the_owned_comments_and_leaves_section_comments() -> None:
    editor = edit("a: 1\n\n# section\n\n# owned by b\nb:\n  c: 2  # inline\n  # deeper\nd: 3\n")
    editor.delete("b")
    assert editor.text == "a: 1\n\n# section\n\nd: 3\n"
    editor.delete("b")  # idempotent
    assert editor.text == "a: 1\n\n# section\n\nd: 3\n"


def test_deleting_the_last_entry_leaves_an_empty_mapping_not_null() -> None:
    editor = edit("a:\n  b: 1   # gone\nc: 2\n")
    editor.delete("a.b")
    assert editor.text == "a: {}\nc: 2\n"
    root = edit("# keep me\nonly: 1\n")
    root.delete("only")
    assert root.text == "{}\n"


def test_delete_and_set_address_sequence_items_by_index_and_by_key() -> None:
    editor = edit("containers:\n  - name: app\n    image: a\n  # the sidecar\n  - name: side\n    image: b\nz: 1\n")
    editor.set("containers[name=app].image", "c")
    editor.delete("containers[name=side]")
    assert editor.text == "containers:\n  - name: app\n    image: c\nz: 1\n"
    editor.delete("containers.0")
    assert editor.text == "containers: []\nz: 1\n"


def test_rename_keeps_comments_and_position() -> None:
    editor = edit("# about registry\nregistry: ghcr.io  # mirror\nz: 1\n")
    editor.rename("registry", "imageRegistry")
    assert editor.text == "# about registry\nimageRegistry: ghcr.io  # mirror\nz: 1\n"
    editor.rename("registry", "imageRegistry")  # idempotent
    assert editor.get("imageRegistry") == "ghcr.io"


def test_append_to_block_and_flow_sequences_is_idempotent() -> None:
    editor = edit("opts:\n  - CreateNamespace=true   # always\nflow: [a, 'b']\nempty: []\n")
    for _ in range(2):
        editor.append("opts", "ServerSideApply=true")
        editor.append("flow", "c d")
        editor.append("empty", {"k": "v"})
        editor.append("new", 1)
    assert editor.text == (
        "opts:\n  - CreateNamespace=true   # always\n  - ServerSideApply=true\nflow: [a, 'b', c d]\n"
        "empty: [{k: v}]\nnew:\n  - 1\n"
    )
    editor.delete("flow.1")
    assert "flow: [a, c d]\n" in editor.text


def test_move_to_another_file_carries_comments_and_converts_line_endings() -> None:
    source = edit("keep: 1\n# owned\ncluster:\n  type: k3d  # inline\n")
    target = YamlEditor(b"global:\r\n  x: 1\r\n", "target.yaml")
    source.move_to(target, "cluster", "global.ameide.cluster")
    assert source.text == "keep: 1\n"
    assert (
        target.to_bytes()
        == b"global:\r\n  x: 1\r\n  ameide:\r\n    # owned\r\n    cluster:\r\n      type: k3d  # inline\r\n"
    )
    source.move_to(target, "cluster", "global.ameide.cluster")  # idempotent
    assert source.text == "keep: 1\n"


def test_an_anchor_moved_in_place_keeps_its_aliases_working() -> None:
    editor = edit("a: &x {k: 1}\nb: *x\n")
    editor.move("a", "global.ameide.a")
    assert editor.text == "global:\n  ameide:\n    a: &x {k: 1}\nb: *x\n"
    assert editor.get("b") == {"k": 1}


def test_anchored_booleans_stay_booleans() -> None:
    editor = edit("a: &on true\nb: *on\n")
    assert editor.data() == {"a": True, "b": True}
    editor.insert("", "c", False)
    assert editor.get("c") is False


def test_multi_document_files_address_documents_by_index() -> None:
    editor = edit("a: 1\n---\nb: 2\n")
    editor.insert("", "c", 3, doc=1)
    assert editor.text == "a: 1\n---\nb: 2\nc: 3\n"


@pytest.mark.parametrize(
    ("text", "call", "reason"),
    [
        ("global: {a: 1}\n", lambda e: e.insert("global", "b", 2), "flow mapping"),
        ("global: {\n  }\n", lambda e: e.insert("global", "b", 2), "spread over lines"),
        ("global: 3\n", lambda e: e.insert("global.ameide", "b", 2), "holds a int"),
        ("base: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n", lambda e: e.insert("m", "z", 1), "merge key"),
        ("a: 1\n", lambda e: e.insert("", "a", 2), "already exists"),
        ("a:\n  b: 1\n", lambda e: e.move("a.b", "c"), "empty"),
        ("a: &x 1\nb: *x\n", lambda e: e.set("a", 2), "anchor `&x`"),
        ("a: &x 1\nb: *x\n", lambda e: e.delete("a"), "referenced by an alias"),
        ("a: &x {k: 1}\nb: *x\nc:\n  d: 1\n", lambda e: e.move("a", "c.a"), "anchor `&x` in `a` is referenced"),
        ("a: 1\nb: 2\n", lambda e: e.rename("a", "b"), "already exists"),
        ("- a: 1\n  b: 2\n", lambda e: e.delete("0.a"), "sequence dash"),
        ("a: [1, [2, 3]\n  ]\n", lambda e: e.append("a", 4), "spread over lines"),
        ("global: null\n", lambda e: e.insert("global", "b", 2), "refusing to replace"),
    ],
)
def test_unsafe_edits_are_refused_and_change_nothing(text: str, call: object, reason: str) -> None:
    editor = edit(text)
    with pytest.raises(EditRefused, match=reason):
        call(editor)  # type: ignore[operator]
    assert editor.text == text


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (b"a: 1\nb: [1, 2\n", 3, "invalid YAML"),
        (b"a:\n\tb: 1\n", 2, "tab"),
        (b"a: 1\na: 2\n", 2, "duplicate"),
        (b"a: 1\nb: \xff\n", 2, "UTF-8"),
    ],
)
def test_bad_input_is_an_input_error_with_its_line(data: bytes, line: int, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        YamlEditor(data, "bad.yaml")
    assert info.value.path == "bad.yaml"
    assert info.value.line == line


def test_delete_of_a_blank_separated_block_leaves_one_separator() -> None:
    editor = YamlEditor(b"# header\n\n# the bridge\ncluster:\n  type: k3d\n\nstorageClass: local-path\n", "g.yaml")
    editor.delete("cluster")
    assert editor.text == "# header\n\nstorageClass: local-path\n"
    tight = YamlEditor(b"a: 1\ncluster:\n  type: k3d\n\nb: 2\n", "g.yaml")
    tight.delete("cluster")
    assert tight.text == "a: 1\n\nb: 2\n"


def test_delete_can_keep_head_comments_that_describe_the_surroundings() -> None:
    text = b"steps:\n  # One step per phase.\n  # 099: legacy\n  - values: ['099']\n  - values: ['155']\n"
    editor = YamlEditor(text, "a.yaml")
    editor.delete(("steps", 0), keep_comment=lambda line: "099" not in line)
    assert editor.text == "steps:\n  # One step per phase.\n  - values: ['155']\n"


def test_insert_into_a_mapping_that_is_a_sequence_item() -> None:
    editor = YamlEditor(b"deps:\n  - name: a\n    repository: file://x\n  - name: b\n", "Chart.yaml")
    editor.insert(("deps", 0), "condition", "a.enabled", after="repository")
    assert editor.text == "deps:\n  - name: a\n    repository: file://x\n    condition: a.enabled\n  - name: b\n"


def test_appending_keeps_commented_out_content_with_the_block_above() -> None:
    text = b"credentials:\n  appUsers: []\n#   - name: backstage\n#     database: backstage\n# end of file\n"
    editor = YamlEditor(text, "values.yaml")
    editor.insert((), "externalSecrets", {"refreshInterval": "1h"})
    assert editor.text == (
        "credentials:\n  appUsers: []\n#   - name: backstage\n#     database: backstage\n"
        "externalSecrets:\n  refreshInterval: 1h\n# end of file\n"
    )


def test_nest_moves_root_keys_under_a_new_key_with_their_comments() -> None:
    text = b"# file header\nimage:\n  tag: 1   # pinned\n\n# the operator's config\nconfig: {a: 1}\nglobal:\n  x: 1\n"
    editor = YamlEditor(text, "values.yaml")
    editor.nest("cnpg", keep=("global",))
    assert editor.text == (
        "# file header\ncnpg:\n  image:\n    tag: 1   # pinned\n\n  # the operator's config\n  config: {a: 1}\n"
        "global:\n  x: 1\n"
    )
    crlf = YamlEditor(b"---\r\nglobal:\r\n  x: 1\r\na: 1\r\n", "v.yaml")
    crlf.nest("alias", keep=("global",))
    assert crlf.text == "---\r\nalias:\r\n  a: 1\r\nglobal:\r\n  x: 1\r\n"
