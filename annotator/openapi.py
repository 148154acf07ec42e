"""The OpenAPI 3.0 description of /api/v1, served at /api/v1/openapi.json.

Kept as a Python dict beside the code it describes; the property-based test
(tests/api/test_api_schema.py) drives the API from it.
"""

from __future__ import annotations

from typing import Any

LABEL = {"type": "string", "enum": ["reported", "quoted", "editorial"]}
NULLABLE_STRING = {"type": "string", "nullable": True}
ROLE = {"type": "string", "enum": ["author", "excerpt"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    texts = {
        400: "Bad request",
        401: "No valid token",
        403: "Not allowed",
        404: "Not found",
        409: "Stale versions, or a run already going on",
    }
    return {str(code): _ok(_ref("Error"), texts[code]) for code in codes}


def _id_param(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}  # fmt: skip


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


SCHEMAS: dict[str, Any] = {
    "Error": _object({"ok": {"type": "boolean"}, "error": {"type": "string"}}, ["ok", "error"]),
    "ReanalysisRun": _object(
        {
            "id": {"type": "integer"},
            "preview": {"type": "boolean"},
            "state": {
                "type": "string",
                "enum": ["running", "cancelling", "finished", "failed", "cancelled", "stopped"],
            },
            "going_on": {"type": "boolean"},
            "done": {"type": "integer"},
            "total": {"type": "integer", "nullable": True},
            "started_by": NULLABLE_STRING,
            "started_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": "string", "format": "date-time", "nullable": True},
            "summary": {"type": "string"},
            "lost_labels": {"type": "string"},
            "message": {"type": "string"},
        }
    ),
    "Project": _object(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "overlap": {"type": "integer"},
            "loaded_terms": {"type": "array", "items": {"type": "string"}},
            "documents": {"type": "integer"},
            "role": {"type": "string"},
        }
    ),
    "Document": _object(
        {
            "id": {"type": "integer"},
            "external_id": {"type": "string"},
            "project_id": {"type": "integer"},
            "title": {"type": "string"},
            "url": NULLABLE_STRING,
            "site": NULLABLE_STRING,
            "published": NULLABLE_STRING,
            "published_on": {**NULLABLE_STRING, "format": "date"},
            "metadata": {"type": "object"},
            "imported_at": {"type": "string", "format": "date-time"},
        }
    ),
    "Passage": _object(
        {
            "id": {"type": "integer"},
            "document_id": {"type": "integer"},
            "index": {"type": "integer"},
            "text": {"type": "string"},
            "role": ROLE,
            "outlet": NULLABLE_STRING,
            "cue": NULLABLE_STRING,
            "cue_start": {"type": "integer", "nullable": True},
            "cue_end": {"type": "integer", "nullable": True},
            "claim_count": {"type": "integer"},
        }
    ),
    "Suggestion": _object(
        {
            "source": {"type": "string"},
            "label": LABEL,
            "score": {"type": "number", "nullable": True},
            "reason": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
        }
    ),
    "Claim": _object(
        {
            "id": {"type": "integer"},
            "passage_id": {"type": "integer"},
            "index": {"type": "integer"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            "text": {"type": "string"},
            "suggested_label": LABEL,
            "suggestion_reason": {"type": "string"},
            "suggestions": {"type": "array", "items": _ref("Suggestion")},
        }
    ),
    "Claims": _object(
        {
            "ok": {"type": "boolean"},
            "claims": {"type": "array", "items": _ref("Claim")},
            "claims_version": {"type": "string"},
            "edit": _object(
                {
                    name: {"type": "integer"}
                    for name in ("kept", "removed", "added", "labels_lost", "settled_lost")
                }
                | {"reviewers": {"type": "array", "items": {"type": "string"}}}
            ),
        },
        ["ok", "claims", "claims_version"],
    ),
    "ClaimEdit": _object(
        {
            "claims": {
                "type": "array",
                "items": _object(
                    {"start": {"type": "integer"}, "end": {"type": "integer"}}, ["start", "end"]
                ),
            },
            "version": {"type": "string"},
            "confirm": {"type": "boolean"},
        },
        ["claims", "version"],
    ),
    "Tags": _object(
        {
            "ok": {"type": "boolean"},
            "passage_id": {"type": "integer"},
            "tags": {
                "type": "object",
                "additionalProperties": _object(
                    {
                        "label": LABEL,
                        "version": {"type": "integer"},
                        "unsure": {"type": "boolean"},
                        "note": {"type": "string"},
                        "updated_at": {"type": "string"},
                    }
                ),
            },
            "outlet": {"type": "string"},
            "claims": {"type": "array", "items": {"type": "integer"}},
        }
    ),
    "TagSubmission": _object(
        {
            "labels": {
                "type": "object",
                "additionalProperties": LABEL,
                "description": "claim id -> label",
            },
            "versions": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "claim id -> the version the labels are based on (0: new)",
            },
            "unsure": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "notes": {"type": "object", "additionalProperties": {"type": "string"}},
            "outlet": {
                "type": "string",
                "description": '"" keeps, "none" = author\'s own words, or an outlet id',
            },
        },
        ["labels"],
    ),
    "DocumentInput": _object(
        {
            "id": {"type": "string", "minLength": 1},
            "title": {"type": "string"},
            "text": {"type": "string", "minLength": 1},
            "url": NULLABLE_STRING,
            "site": NULLABLE_STRING,
            "published": NULLABLE_STRING,
            "metadata": {"type": "object"},
        },
        ["id", "title", "text"],
    ),
    "SuggestionInput": _object(
        {
            "claim_id": {"type": "integer"},
            "label": LABEL,
            "score": {"type": "number", "nullable": True},
            "reason": {"type": "string"},
        },
        ["claim_id", "label"],
    ),
}

EXPORT_PARAMETERS = [
    _query("format", {"type": "string",
                      "enum": ["csv", "csv-wide", "jsonl", "label-studio", "doccano"]},
           "Export format (default csv)"),
    _query("project", {"type": "string"}, "Project name"),
    _query("outlet", {"type": "string"}, 'Detected outlet name ("none": no outlet)'),
    _query("role", {"type": "string", "enum": ["author", "excerpt"]}, "Passage role"),
    _query("label", LABEL, "Only reviewers' labels equal to this"),
    _query("reviewer", {"type": "string"}, "Only this reviewer's labels"),
    _query("since", {"type": "string", "format": "date"}, "Labels saved on or after (UTC)"),
    _query("until", {"type": "string", "format": "date"}, "Labels saved on or before (UTC)"),
    _query("site", {"type": "string"}, "Only documents of this citing site"),
    _query("published_from", {"type": "string", "format": "date"},
           "Only documents published on or after"),
    _query("published_to", {"type": "string", "format": "date"},
           "Only documents published on or before"),
    _query("settled", {"type": "string", "enum": ["0", "1"]}, "1: only claims with a final label"),
    _query("all_claims", {"type": "string", "enum": ["0", "1"]}, "CSV: rows for untagged claims"),
    _query("excel", {"type": "string", "enum": ["0", "1"]}, "CSV: UTF-8 byte-order mark first"),
]  # fmt: skip


def _array(name: str) -> dict[str, Any]:
    return {"type": "array", "items": _ref(name)}


def _paths() -> dict[str, Any]:
    project_id, document_id, passage_id = (
        _id_param("project_id"), _id_param("document_id"), _id_param("passage_id"),
    )  # fmt: skip
    return {
        "/api/v1/projects": {"get": {
            "summary": "Projects the user may see", "operationId": "listProjects",
            "responses": {"200": _ok(_object({"projects": _array("Project")})), **_errors(401)},
        }},
        "/api/v1/projects/{project_id}/documents": {
            "get": {
                "summary": "Documents of a project, by id, a page at a time",
                "operationId": "listDocuments",
                "parameters": [project_id,
                               _query("after", {"type": "integer", "minimum": 0}, "Cursor"),
                               _query("limit", {"type": "integer", "minimum": 1,
                                                "maximum": 500}, "Page size")],
                "responses": {"200": _ok(_object({
                    "documents": _array("Document"),
                    "next_after": {"type": "integer", "nullable": True}})),
                    **_errors(400, 401, 404)},
            },
            "post": {
                "summary": "Import documents (admins; all or nothing)",
                "operationId": "importDocuments",
                "parameters": [project_id],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _object({"documents": {**_array("DocumentInput"), "minItems": 1},
                                       "reanalyse": {"type": "boolean", "default": False}},
                                      ["documents"])}}},
                "responses": {"200": _ok(_object({
                    "imported": {"type": "array", "items": {"type": "string"}},
                    "updated": {"type": "array", "items": {"type": "string"}},
                    "reanalysed": {"type": "array", "items": {"type": "string"}},
                    "duplicates": {"type": "array", "items": {"type": "string"}},
                    "lost_tags": {"type": "array", "items": {"type": "string"}},
                    "passages": {"type": "integer"}})),
                    **_errors(400, 401, 403, 404)},
            },
        },
        "/api/v1/projects/{project_id}/reanalyse": {
            "post": {
                "summary": "Analyse the project's documents again from the texts they were "
                           "imported with (admins); a preview reports what would change and "
                           "changes nothing; in the background, the answer comes at once",
                "operationId": "reanalyseProject",
                "parameters": [project_id],
                "requestBody": {"required": False, "content": {"application/json": {
                    "schema": _object({"preview": {"type": "boolean", "default": False},
                                       "background": {"type": "boolean", "default": False}})}}},
                "responses": {"200": _ok(_object({
                    "preview": {"type": "boolean"},
                    "reanalysed": {"type": "array", "items": {"type": "string"}},
                    "unchanged": {"type": "integer"},
                    "without_source": {"type": "integer"},
                    "lost_tags": {"type": "array", "items": {"type": "string"}},
                    "passages": {"type": "integer"}})),
                    "202": _ok(_object({"run": _ref("ReanalysisRun")}),
                               "Started in the background; follow it at the same address"),
                    **_errors(400, 401, 403, 404, 409)},
            },
            "get": {
                "summary": "The project's latest reanalysis run started in the background "
                           "(admins; null when none was)",
                "operationId": "getReanalysisRun",
                "parameters": [project_id],
                "responses": {"200": _ok(_object({"run": {"allOf": [_ref("ReanalysisRun")],
                                                          "nullable": True}})),
                              **_errors(401, 403, 404)},
            },
            "delete": {
                "summary": "Ask the project's background reanalysis run to stop after the batch "
                           "under way (admins); the batches it stored stay",
                "operationId": "cancelReanalysisRun",
                "parameters": [project_id],
                "responses": {"202": _ok(_object({"run": _ref("ReanalysisRun")}),
                                         "Asked to stop; follow it with GET"),
                              **_errors(401, 403, 404, 409)},
            },
        },
        "/api/v1/documents/{document_id}": {
            "get": {
                "summary": "A document with its passages", "operationId": "getDocument",
                "parameters": [document_id],
                "responses": {"200": _ok(_object({"document": _ref("Document"),
                                                  "passages": _array("Passage")})),
                              **_errors(401, 404)},
            },
            "delete": {
                "summary": "Delete a document with its passages, claims, labels, reviews, "
                           "settled labels and history (admins; cannot be undone)",
                "operationId": "deleteDocument",
                "parameters": [document_id],
                "responses": {"200": _ok(_object({"deleted": _object({
                    name: {"type": "integer"}
                    for name in ("passages", "claims", "labels", "reviewers", "settled")
                })})), **_errors(401, 403, 404)},
            },
        },
        "/api/v1/documents/{document_id}/passages": {"get": {
            "summary": "Passages of a document", "operationId": "listPassages",
            "parameters": [document_id],
            "responses": {"200": _ok(_object({"passages": _array("Passage")})),
                          **_errors(401, 404)},
        }},
        "/api/v1/passages/{passage_id}": {"get": {
            "summary": "A passage with its claims", "operationId": "getPassage",
            "parameters": [passage_id],
            "responses": {"200": _ok(_object({"passage": _ref("Passage"),
                                              "claims": _array("Claim")})),
                          **_errors(401, 404)},
        }},
        "/api/v1/passages/{passage_id}/outlet": {"put": {
            "summary": "Set or confirm the outlet the passage cites (curators); null: the "
                       "author's own words; 409 when it is no longer the one seen",
            "operationId": "putPassageOutlet",
            "parameters": [passage_id],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _object({"outlet": NULLABLE_STRING, "seen": NULLABLE_STRING},
                                  ["outlet", "seen"])}}},
            "responses": {"200": _ok(_object({"passage": _ref("Passage")})),
                          **_errors(400, 401, 403, 404, 409)},
        }},
        "/api/v1/passages/{passage_id}/role": {"put": {
            "summary": "Set the passage's role (curators); 409 when it is no longer the one seen",
            "operationId": "putPassageRole",
            "parameters": [passage_id],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _object({"role": ROLE, "seen": ROLE}, ["role", "seen"])}}},
            "responses": {"200": _ok(_object({"passage": _ref("Passage")})),
                          **_errors(400, 401, 403, 404, 409)},
        }},
        "/api/v1/passages/{passage_id}/claims": {
            "get": {
                "summary": "Claims of a passage with all suggestions, and the version of their "
                           "boundaries", "operationId": "listClaims",
                "parameters": [passage_id],
                "responses": {"200": _ok(_ref("Claims")), **_errors(401, 404)},
            },
            "put": {
                "summary": "Correct the passage's claim boundaries (curators): unchanged spans "
                           "keep their work, removing labels needs \"confirm\": true",
                "operationId": "putClaims",
                "parameters": [passage_id],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("ClaimEdit")}}},
                "responses": {"200": _ok(_ref("Claims")), **_errors(400, 401, 403, 404, 409)},
            },
        },
        "/api/v1/passages/{passage_id}/tags": {
            "get": {
                "summary": "Your tags on a passage, with versions", "operationId": "getTags",
                "parameters": [passage_id],
                "responses": {"200": _ok(_ref("Tags")), **_errors(401, 404)},
            },
            "put": {
                "summary": "Save your tags (the annotation page's rules)",
                "operationId": "putTags",
                "parameters": [passage_id],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("TagSubmission")}}},
                "responses": {"200": _ok(_ref("Tags")), **_errors(400, 401, 404, 409)},
            },
        },
        "/api/v1/suggestions": {"post": {
            "summary": "Post suggestions of a source (curators of the claims' projects)",
            "operationId": "postSuggestions",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": _object({"source": {"type": "string", "minLength": 1,
                                              "maxLength": 100},
                                   "suggestions": {**_array("SuggestionInput"), "minItems": 1}},
                                  ["source", "suggestions"])}}},
            "responses": {"200": _ok(_object({"source": {"type": "string"},
                                              "stored": {"type": "integer"}})),
                          **_errors(400, 401, 403, 404)},
        }},
        "/api/v1/export": {"get": {
            "summary": "Export labels (curators and admins), streamed",
            "operationId": "export",
            "parameters": EXPORT_PARAMETERS,
            "responses": {
                "200": {"description": "The export file", "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "array", "items": {}}}}},
                **_errors(400, 401, 403),
            },
        }},
    }  # fmt: skip


def openapi_spec(server: str = "") -> dict[str, Any]:
    """The description, with ``server`` (the app's base URL) as its server."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "annotator API",
            "version": "1",
            "description": "Label claims in news articles as reported, quoted or editorial. "
            "Authenticate with a personal token: Authorization: Bearer <token>.",
        },
        "servers": [{"url": server or "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": _paths(),
    }
