"""axe-core in the page: audit the whole document, open shadow roots included, and judge the result.

The script is the axe.min.js inside the axe-playwright-python wheel pinned in requirements-dev.txt
(axe-core 4.12.1), injected as an inline script: nothing is fetched, so the context's network block
stays intact. Only that file is used; the wheel's own runner formats its arguments with Python's
repr(), which is not JavaScript.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

FAILING_IMPACTS = ("serious", "critical")
# WCAG 2.2's target size (2.5.8) is off by default in axe-core 4.12; Lighthouse 12.8's accessibility
# score runs it, so the audit does too.
RUN_OPTIONS = {"rules": {"target-size": {"enabled": True}}}


@dataclass(frozen=True)
class Exclusion:
    """One rule waived for the elements one CSS selector matches, where our side cannot fix it."""

    rule: str
    selector: str  # the violating element itself must match it (axe reports where it fails)
    reason: str
    upstream: str


EXCLUSIONS = (
    Exclusion(
        rule="aria-required-children",
        selector=".tabulator[role='grid']",
        reason="Tabulator 6.4.0 (Panel 1.9.4's Tabulator widget) puts its focusable scroll container "
               "(div.tabulator-tableholder, tabindex=0) and its paginator's page buttons directly "
               "under role=grid, where only rows and row groups belong; no Panel or Tabulator "
               "option changes that markup. The table's cells, headers and filters are still "
               "audited by every other rule.",
        upstream="https://github.com/tabulator-tables/tabulator/issues/4555 (also #4151; the "
                 "aria-owns fix of PR #4836 is in 6.4.0 and leaves these two children)"),
)

# Run axe on the document; drop (and report) the violating nodes an exclusion covers, matching the
# element itself. A node's target holds one selector path per frame (the page has no frames); the
# path goes through shadow roots, which axe.utils.shadowSelect follows.
_AUDIT_JS = """async ([options, exclusions]) => {
  const results = await axe.run(document, options);
  const excluded = [];
  const violations = [];
  for (const v of results.violations) {
    const nodes = [];
    for (const node of v.nodes) {
      const el = axe.utils.shadowSelect(node.target[0]);
      const waived = exclusions.find(e => e.rule === v.id && el != null && el.matches(e.selector));
      const entry = {target: node.target, html: node.html, summary: node.failureSummary};
      if (waived) excluded.push({rule: v.id, selector: waived.selector, ...entry});
      else nodes.push(entry);
    }
    if (nodes.length) {
      violations.push({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, nodes});
    }
  }
  return {violations, excluded};
}"""

# Every node the given rules looked at (passed, failed or undecided), for checking coverage.
_CHECKED_JS = """async rules => {
  const results = await axe.run(document, {runOnly: {type: 'rule', values: rules}});
  const checked = Object.fromEntries(rules.map(r => [r, []]));
  for (const group of [results.passes, results.violations, results.incomplete]) {
    for (const rule of group) {
      checked[rule.id].push(...rule.nodes.map(n => ({target: n.target, html: n.html})));
    }
  }
  return checked;
}"""


@dataclass
class AxeReport:
    """What axe found, less the excluded nodes (kept apart, so a stale exclusion shows)."""

    violations: list[dict]
    excluded: list[dict]

    @property
    def failing(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in FAILING_IMPACTS]

    def unused(self, exclusions: tuple[Exclusion, ...] = EXCLUSIONS) -> list[Exclusion]:
        """The exclusions that matched nothing in this audit."""
        used = {(e["rule"], e["selector"]) for e in self.excluded}
        return [e for e in exclusions if (e.rule, e.selector) not in used]

    def describe(self, where: str) -> str:
        """Each failing violation: id, impact, help text, and every element's target selectors."""
        lines = [f"axe: serious or critical violations on {where}:"]
        for v in self.failing:
            lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
            lines += [f"    {node['target']}\n      {node['html'][:200]}" for node in v["nodes"]]
        return "\n".join(lines)


def _inject(page: Page) -> None:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # through the DevTools protocol, not a <script> element: the site's Content-Security-Policy
        # (rightly) refuses an inline script it has no hash for
        page.evaluate(AXE_SCRIPT)


def audit(page: Page) -> AxeReport:
    """Run every default axe rule plus target-size on the page as it is now."""
    _inject(page)
    result = page.evaluate(_AUDIT_JS, [RUN_OPTIONS, [asdict(e) for e in EXCLUSIONS]])
    return AxeReport(result["violations"], result["excluded"])


def checked_nodes(page: Page, rules: list[str]) -> dict[str, list[dict]]:
    """{rule: [{target, html}]} for every element each rule examined."""
    _inject(page)
    return page.evaluate(_CHECKED_JS, rules)


def in_shadow_dom(node: dict) -> bool:
    """axe writes an element inside a shadow root as a path: host selectors, then the element's."""
    return isinstance(node["target"][0], list) and len(node["target"][0]) > 1
