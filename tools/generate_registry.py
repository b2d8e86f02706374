"""Generate ``search/data/registry.json`` from the official FHIR R4 (4.0.1) definitions.

Development time only, outside the installed packages: the server reads only the generated table::

    .venv/bin/python tools/generate_registry.py --shared DIR [--out search/data/registry.json]

Inputs, under ``DIR`` (the reference folder holding the R4 definitions):
``fhir-r4/search-parameters.json`` (every R4 SearchParameter), ``fhir-r4/fhir.schema.json`` (element
names, types and cardinalities, used to pre-split each FHIRPath expression into typed routes),
``fhir-r4/CompartmentDefinition-patient.json`` and, when importable, the ``fhir.resources.R4B``
models for the summary / mandatory element tables of ``_summary`` and ``_elements``. Output: per
resource type, per parameter code: type, url, routes (key steps with filters and the final element
type), multi (can yield several values), targets, components.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from search.fhirpath import Step
from search.fhirpath import parse

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_IDS = {"example", "example-reference", "example-extension"}
SUPPORTED_TYPES = {"string", "token", "date", "reference", "number", "quantity", "uri", "composite"}
#: parameters compiled on top-level stored fields instead of idx
DIRECT = {"_id": "_id", "_lastUpdated": "ts"}


class Schema:
    """Element lookups over the R4 JSON Schema definitions."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema["definitions"]
        self.resource_types = sorted(r["$ref"].rsplit("/", 1)[1] for r in self.defs["ResourceList"]["oneOf"])

    def is_primitive(self, name: str) -> bool:
        d = self.defs.get(name)
        return d is not None and "properties" not in d and name[:1].islower()

    def suffix_type(self, suffix: str) -> str:
        low = suffix[:1].lower() + suffix[1:]
        return low if self.is_primitive(low) else suffix

    def prop_type(self, prop: dict[str, Any], key: str, choice_base: str | None) -> tuple[str, bool]:
        multi = prop.get("type") == "array"
        target = prop.get("items", prop) if multi else prop
        ref = target.get("$ref")
        if ref:
            return ref.rsplit("/", 1)[1], multi
        if choice_base is not None:
            return self.suffix_type(key[len(choice_base) :]), multi
        if "enum" in target:
            return "code", multi
        return {"boolean": "boolean", "number": "decimal"}.get(target.get("type", ""), "string"), multi

    def children(self, type_: str, name: str) -> list[tuple[str, str, bool, bool]]:
        """(json key, type, is array, is choice variant) for element ``name`` of ``type_``."""
        props = self.defs.get(type_, {}).get("properties", {})
        if name in props:
            t, multi = self.prop_type(props[name], name, None)
            return [(name, t, multi, False)]
        out = []
        for key, prop in props.items():
            if key.startswith(name) and key[len(name) :][:1].isupper():
                t, multi = self.prop_type(prop, key, name)
                out.append((key, t, multi, True))
        return out


def _route_steps(schema: Schema, start: str, steps: list[Step]) -> list[dict[str, Any]]:
    """Resolve FHIRPath steps from type ``start`` into typed routes (choices expanded)."""
    cands: list[dict[str, Any]] = [{"s": [], "t": start, "m": False, "base": [], "choice": False}]
    for step in steps:
        nxt: list[dict[str, Any]] = []
        for c in cands:
            if step.kind == "child":
                if c["t"] == "Extension" and step.arg == "value":
                    nxt.append(
                        {**c, "s": c["s"] + ["value[x]"], "t": "*", "base": c["base"] + ["value"], "choice": True}
                    )
                    continue
                for key, t, multi, choice in schema.children(c["t"], step.arg):
                    nxt.append(
                        {
                            "s": c["s"] + [key],
                            "t": t,
                            "m": c["m"] or multi,
                            "base": c["base"] + [step.arg],
                            "choice": choice,
                        }
                    )
            elif step.kind == "as":
                want = step.arg
                if c["t"] == "*":
                    last = c["s"][-1]
                    key = "value" + want[:1].upper() + want[1:]
                    nxt.append({**c, "s": [*c["s"][:-1], key], "t": want})
                elif c["t"] == want or (c["t"] in ("Age", "Duration", "Count", "Distance") and want == "Quantity"):
                    nxt.append(c)
            elif step.kind == "ext":
                nxt.append(
                    {
                        **c,
                        "s": c["s"] + [{"k": "extension", "ext": step.arg}],
                        "t": "Extension",
                        "m": True,
                        "base": c["base"] + ["extension:" + step.arg],
                        "choice": False,
                    }
                )
            elif step.kind in ("is", "eq", "hasext", "index"):
                if not c["s"]:
                    continue
                last = c["s"][-1]
                last = dict(last) if isinstance(last, dict) else {"k": last}
                if step.kind == "is":
                    last.setdefault("is", []).append(step.arg)
                elif step.kind == "eq":
                    last["eq"] = [step.arg, step.value]
                elif step.kind == "hasext":
                    last["hx"] = step.arg
                else:
                    last["i"] = int(step.arg)
                    c = {**c, "m": False}
                nxt.append({**c, "s": [*c["s"][:-1], last]})
            else:
                raise ValueError(f"unsupported step {step}")
        cands = nxt
    out = []
    for c in cands:
        if c["t"] == "Extension":
            c = {**c, "s": c["s"] + ["value[x]"], "t": "*"}
        out.append(c)
    return out


def _routes(schema: Schema, type_: str, expression: str, relative_to: str | None = None) -> list[dict[str, Any]]:
    routes: list[dict[str, Any]] = []
    for alt in parse(expression):
        if relative_to is not None:
            routes += _route_steps(schema, relative_to, alt)
            continue
        root = alt[0].arg
        if root in (type_, "Resource", "DomainResource"):
            routes += _route_steps(schema, type_, alt[1:])
        elif root[:1].islower() and schema.children(type_, root):
            routes += _route_steps(schema, type_, alt)  # a relative expression ("name | alias")
    return routes


_KINDS = {
    "token": {"code", "Coding", "CodeableConcept", "Identifier", "ContactPoint", "boolean", "id"},
    "reference": {"Reference", "canonical"},
    "quantity": {"Quantity", "Age", "Duration", "Count", "Distance", "SimpleQuantity", "Money"},
    "date": {"date", "dateTime", "instant", "Period", "Timing"},
    "string": {"string", "markdown", "HumanName", "Address"},
    "number": {"decimal", "integer", "positiveInt", "unsignedInt"},
    "uri": {"uri", "url", "oid", "uuid"},
}


def _kind_of(element_type: str) -> str | None:
    """The search parameter type an element type implies (composite components, where R4's
    component definitions are sometimes swapped, e.g. DocumentReference-relationship)."""
    for kind, names in _KINDS.items():
        if element_type in names:
            return kind
    return None


def _multi(routes: list[dict[str, Any]]) -> bool:
    if any(r["m"] for r in routes):
        return True
    return len({json.dumps(r["base"]) for r in routes}) > 1


def _clean(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"s": r["s"], "t": r["t"]} for r in routes]


def build(shared: Path) -> dict[str, Any]:
    bundle = json.loads((shared / "fhir-r4/search-parameters.json").read_text())
    schema = Schema(json.loads((shared / "fhir-r4/fhir.schema.json").read_text()))
    definitions = [e["resource"] for e in bundle["entry"]]
    by_url = {d["url"]: d for d in definitions}
    types: dict[str, dict[str, Any]] = {t: {} for t in schema.resource_types}
    skipped: list[str] = []
    for sp in definitions:
        if sp["id"] in SKIPPED_IDS or "base" not in sp:
            continue
        if sp["type"] not in SUPPORTED_TYPES or not sp.get("expression"):
            skipped.append(sp["id"])
            continue
        bases = sp["base"]
        applies = schema.resource_types if bases[0] in ("Resource", "DomainResource") else bases
        for type_ in applies:
            if type_ not in types:
                continue
            entry: dict[str, Any] = {"type": sp["type"], "url": sp["url"]}
            if sp["code"] in DIRECT:
                entry["field"] = DIRECT[sp["code"]]
                entry["routes"], entry["multi"] = [], False
            elif sp["id"] == "Patient-deceased":
                entry["routes"], entry["multi"] = [{"s": [], "t": "deceased"}], False
            else:
                try:
                    routes = _routes(schema, type_, sp["expression"])
                except Exception as exc:  # noqa: BLE001 - report and skip
                    skipped.append(f"{sp['id']} ({exc})")
                    continue
                if not routes:
                    skipped.append(f"{sp['id']} on {type_} (no route)")
                    continue
                entry["multi"] = _multi(routes)
                entry["routes"] = _clean(routes)
            if sp.get("target"):
                entry["targets"] = sorted(sp["target"])
            if sp["type"] == "composite":
                roots = _routes(schema, type_, sp["expression"])
                comps: list[dict[str, Any]] = []
                for comp in sp.get("component", []):
                    ref = by_url.get(comp["definition"])
                    if ref is None or "%" in comp["expression"]:
                        comps = []
                        break
                    per_root = [_routes(schema, type_, comp["expression"], relative_to=r["t"]) for r in roots]
                    if not any(per_root):
                        comps = []
                        break
                    kinds = {_kind_of(r["t"]) for sub in per_root for r in sub} - {None}
                    kind = kinds.pop() if len(kinds) == 1 else ref["type"]
                    comps.append({"code": ref["code"], "type": kind, "routes": [_clean(sub) for sub in per_root]})
                if not comps:
                    skipped.append(f"{sp['id']} on {type_} (composite components)")
                    continue
                entry["components"] = comps
            types[type_][sp["code"]] = entry
    compartment = json.loads((shared / "fhir-r4/CompartmentDefinition-patient.json").read_text())
    patient_compartment = {r["code"]: r["param"] for r in compartment["resource"] if r.get("param")}
    summary, mandatory = _element_tables(schema.resource_types)
    return {
        "fhirVersion": "4.0.1",
        "source": "hl7.fhir.r4.core 4.0.1 search-parameters.json, fhir.schema.json, "
        "CompartmentDefinition-patient.json; fhir.resources R4B (summary flags)",
        "types": types,
        "compartments": {"Patient": patient_compartment},
        "summary": summary,
        "mandatory": mandatory,
        "skipped": sorted(skipped),
    }


def _element_tables(resource_types: list[str]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Top-level summary and mandatory element keys per type, from fhir.resources R4B models."""
    summary: dict[str, list[str]] = {}
    mandatory: dict[str, list[str]] = {}
    try:
        fhirtypes = importlib.import_module("fhir.resources.R4B")
    except ImportError:
        return summary, mandatory
    for type_ in resource_types:
        try:
            model = fhirtypes.get_fhir_model_class(type_)
        except (KeyError, ValueError, AttributeError):
            continue
        keys, required = [], []
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra or {}
            if not isinstance(extra, dict) or not extra.get("element_property"):
                continue
            key = field.alias or name
            if extra.get("summary_element_property"):
                keys.append(key)
            if field.is_required() or extra.get("element_required"):
                required.append(key)
        summary[type_] = sorted(keys)
        mandatory[type_] = sorted(required)
    return summary, mandatory


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, required=True, help="the folder holding fhir-r4/")
    ap.add_argument("--out", type=Path, default=ROOT / "search/data/registry.json")
    args = ap.parse_args(argv)
    data = build(args.shared)
    args.out.write_text(json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n")
    n = sum(len(v) for v in data["types"].values())
    print(
        f"wrote {args.out}: {len(data['types'])} types, {n} (type, code) entries, {len(data['skipped'])} skipped",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
