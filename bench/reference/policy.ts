// The reference policy engine: one plan layer of the policy format, rules
// compiled once into regular expressions and checked one by one. Among the
// matching rules the exception rules alone count if there are any, and the
// strictest decision wins; with no match the scope default decides. An
// opaque action is never auto-approved.

import { globToRegExp } from './glob.ts'
import { CommandPattern, type SubCommand } from './shell.ts'
import { isInside } from './paths.ts'

export type Decision = 'auto-approve' | 'ask-user' | 'deny'
export type Category =
  | 'file_edit'
  | 'file_read'
  | 'shell_command'
  | 'network_access'
  | 'install_packages'
  | 'mcp_tools'
  | 'other'

export interface Action {
  category: Category
  scope?: 'inside_worktree' | 'outside_worktree'
  target: string
  command?: SubCommand
  opaque?: string
}

export interface Verdict {
  decision: Decision
  rule: string
}

const RANK: Record<Decision, number> = { 'auto-approve': 0, 'ask-user': 1, deny: 2 }
const SCOPED = new Set<Category>(['file_edit', 'file_read', 'shell_command'])

interface RuleSpec {
  pattern: string
  decision: Decision
  exception?: boolean
}

interface CompiledRule {
  name: string
  decision: Decision
  exception: boolean
  matches: (action: Action) => boolean
}

interface Section {
  insideWorktree?: Decision
  outsideWorktree?: Decision
  default?: Decision
  rules: CompiledRule[]
}

export class ReferencePolicy {
  private readonly sections = new Map<Category, Section>()

  constructor(
    config: { permissions: Record<string, unknown> },
    private readonly worktree: string,
    private readonly home: string,
  ) {
    for (const [key, value] of Object.entries(config.permissions)) {
      this.sections.set(key as Category, this.compileSection(key as Category, value))
    }
  }

  evaluate(action: Action): Verdict {
    const section = this.sections.get(action.category)
    let verdict = this.decide(action, section)
    if (action.opaque && verdict.decision === 'auto-approve') verdict = { decision: 'ask-user', rule: 'opaque' }
    return verdict
  }

  private decide(action: Action, section: Section | undefined): Verdict {
    if (!section) return { decision: 'ask-user', rule: `${action.category} (default)` }
    let best: CompiledRule | undefined
    let bestException = false
    for (const rule of section.rules) {
      if (!rule.matches(action)) continue
      const better =
        !best ||
        (rule.exception && !bestException) ||
        (rule.exception === bestException && RANK[rule.decision] > RANK[best.decision])
      if (better) {
        best = rule
        bestException = rule.exception
      }
    }
    if (best) return { decision: best.decision, rule: best.name }
    if (SCOPED.has(action.category)) {
      const inside = action.scope === 'inside_worktree'
      const decision = (inside ? section.insideWorktree : section.outsideWorktree) ?? 'ask-user'
      return { decision, rule: `${action.category}.${inside ? 'inside_worktree' : 'outside_worktree'}` }
    }
    return { decision: section.default ?? 'ask-user', rule: `${action.category}.default` }
  }

  private compileSection(category: Category, value: unknown): Section {
    if (typeof value === 'string') return { default: value as Decision, rules: [] }
    const spec = value as { inside_worktree?: Decision; outside_worktree?: Decision; default?: Decision; rules?: RuleSpec[] }
    const rules = (spec.rules ?? []).map((rule, index) => ({
      name: `${category}.rules[${index}] "${rule.pattern}"`,
      decision: rule.decision,
      exception: rule.exception === true,
      matches: this.matcher(category, rule.pattern),
    }))
    return { insideWorktree: spec.inside_worktree, outsideWorktree: spec.outside_worktree, default: spec.default, rules }
  }

  private matcher(category: Category, pattern: string): (action: Action) => boolean {
    switch (category) {
      case 'file_edit':
      case 'file_read':
        return this.pathMatcher(pattern)
      case 'network_access':
        return networkMatcher(pattern)
      case 'mcp_tools':
      case 'other': {
        const regex = globToRegExp(pattern, { literalSeparator: false, caseInsensitive: false })
        return (action) => regex.test(action.target)
      }
      case 'shell_command':
      case 'install_packages': {
        const command = new CommandPattern(pattern)
        return (action) => action.command !== undefined && command.matches(action.command)
      }
    }
  }

  // Absolute patterns match the absolute path. `**/x` and bare names match
  // the worktree-relative path inside the worktree and the absolute path
  // elsewhere. Other relative patterns match inside the worktree only. A
  // pattern also covers everything below the directory it names.
  private pathMatcher(pattern: string): (action: Action) => boolean {
    let anchor: 'absolute' | 'anywhere' | 'worktree'
    let text = pattern.replace(/^\.\//, '')
    if (pattern.startsWith('~/')) {
      anchor = 'absolute'
      text = this.home + pattern.slice(1)
    } else if (pattern.startsWith('/')) anchor = 'absolute'
    else if (text.startsWith('**/')) anchor = 'anywhere'
    else if (!text.replace(/\/+$/, '').includes('/')) {
      anchor = 'anywhere'
      text = `**/${text}`
    } else anchor = 'worktree'
    const texts = text.endsWith('/**') ? [text] : text.endsWith('/') ? [`${text}**`] : [`${text}/**`, text]
    const regexes = texts.map((glob) => globToRegExp(glob, { literalSeparator: true, caseInsensitive: false }))
    const test = (path: string) => regexes.some((regex) => regex.test(path))
    const worktree = this.worktree
    return (action) => {
      const path = action.target
      const inside = isInside(path, worktree)
      const relative = inside ? path.slice(worktree.length + 1) : undefined
      if (anchor === 'absolute') return test(path)
      if (anchor === 'anywhere') return test(relative ?? path)
      return relative !== undefined && test(relative)
    }
  }
}

function networkMatcher(pattern: string): (action: Action) => boolean {
  if (pattern.includes('://')) {
    const regex = globToRegExp(pattern, { literalSeparator: true, caseInsensitive: true })
    return (action) => action.target.includes('://') && regex.test(action.target)
  }
  const regex = globToRegExp(pattern, { literalSeparator: false, caseInsensitive: true })
  return (action) => regex.test(hostOf(action.target))
}

export function hostOf(target: string): string {
  const scheme = target.indexOf('://')
  let rest = scheme >= 0 ? target.slice(scheme + 3) : target
  const end = rest.search(/[/?#]/)
  if (end >= 0) rest = rest.slice(0, end)
  const at = rest.lastIndexOf('@')
  if (at >= 0) rest = rest.slice(at + 1)
  if (rest.startsWith('[')) return rest.slice(0, rest.indexOf(']') + 1 || rest.length)
  const colon = rest.indexOf(':')
  return colon >= 0 ? rest.slice(0, colon) : rest
}

export function strictest(a: Decision, b: Decision): Decision {
  return RANK[a] >= RANK[b] ? a : b
}
