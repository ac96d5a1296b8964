// A simple shell split for the reference: quotes, the operators `&&`,
// `||`, `;`, `|`, `&` and newlines, redirections, `cd`, and a few programs
// whose effects the policy governs (package installs, network fetches).
// Anything with substitutions or `eval` is opaque, as in the Rust analysis.

import { normalize } from './paths.ts'

export type Effect =
  | { kind: 'writes'; path: string }
  | { kind: 'reads'; path: string }
  | { kind: 'network'; target: string }
  | { kind: 'installs' }

export interface SubCommand {
  program: string
  args: string[]
  cwd: string
  text: string
  effects: Effect[]
  opaque?: string
}

export interface Analysis {
  subCommands: SubCommand[]
  opaque: string[]
}

const OPERATORS = ['&&', '||', ';', '|', '&', '\n']
const OPERATOR_START = new Set(['&', '|', ';', '\n'])
const INSTALLERS: Record<string, string[]> = {
  npm: ['install', 'i', 'add', 'ci'],
  pnpm: ['add', 'install', 'i'],
  yarn: ['add', 'install'],
  pip: ['install'],
  pip3: ['install'],
  cargo: ['add', 'install'],
  gem: ['install'],
  'apt-get': ['install'],
  apt: ['install'],
}
const FETCHERS = new Set(['curl', 'wget'])
const HIDDEN_CODE = new Set(['eval', 'source', '.', 'alias', 'trap', 'enable', 'hash', 'fc', 'bind', 'complete'])
const INTERPRETERS = new Set(['python', 'python2', 'python3', 'node', 'nodejs', 'deno', 'perl', 'ruby', 'php', 'lua', 'java', 'tsx', 'ts-node', 'bash', 'sh', 'zsh'])
const DOWNLOAD_AND_RUN = new Set(['npx', 'pnpx', 'bunx', 'uvx'])
const RUNS_PACKAGE_CODE = new Set(['run', 'run-script', 'test', 'start', 'exec', 'x', 'dlx'])
const WRAPPERS = new Set(['sudo', 'env', 'nohup', 'time', 'command', 'exec'])

interface Token {
  text: string
  operator: boolean
}

function tokenize(command: string): Token[] | string {
  const tokens: Token[] = []
  let word = ''
  let inWord = false
  for (let i = 0; i < command.length; i++) {
    const char = command[i]
    if (char === "'") {
      const end = command.indexOf("'", i + 1)
      if (end < 0) return 'unterminated single quote'
      word += command.slice(i + 1, end)
      inWord = true
      i = end
    } else if (char === '"') {
      let j = i + 1
      for (; j < command.length && command[j] !== '"'; j++) {
        if (command[j] === '\\') j++
        else if (command[j] === '$' || command[j] === '`') return 'expansion inside double quotes'
      }
      if (j >= command.length) return 'unterminated double quote'
      word += command.slice(i + 1, j)
      inWord = true
      i = j
    } else if (char === '$' || char === '`') {
      if (command[i + 1] === '(' || char === '`') return 'command substitution'
      word += char
      inWord = true
    } else if (char === ' ' || char === '\t') {
      if (inWord) tokens.push({ text: word, operator: false })
      word = ''
      inWord = false
    } else {
      const operator = OPERATOR_START.has(char) ? OPERATORS.find((op) => command.startsWith(op, i)) : undefined
      if (operator && !(operator === '&' && (command[i - 1] === '>' || command[i + 1] === '>'))) {
        if (inWord) tokens.push({ text: word, operator: false })
        word = ''
        inWord = false
        tokens.push({ text: operator, operator: true })
        i += operator.length - 1
      } else {
        word += char
        inWord = true
      }
    }
  }
  if (inWord) tokens.push({ text: word, operator: false })
  return tokens
}

export function analyse(command: string, cwd: string, home: string): Analysis {
  const tokens = tokenize(command)
  if (typeof tokens === 'string') return { subCommands: [], opaque: [tokens] }
  const subCommands: SubCommand[] = []
  let current: string[] = []
  let dir = cwd
  const flush = () => {
    if (current.length > 0) {
      const sub = subCommand(current, dir, home)
      if (sub.program === 'cd') dir = normalize(sub.args[0] ?? home, dir, home)
      subCommands.push(sub)
    }
    current = []
  }
  for (const token of tokens) {
    if (token.operator) flush()
    else current.push(token.text)
  }
  flush()
  return { subCommands, opaque: [] }
}

function subCommand(words: string[], cwd: string, home: string): SubCommand {
  const effects: Effect[] = []
  const args: string[] = []
  for (let i = 0; i < words.length; i++) {
    const redirect = /^(\d*)(>>|>|<)(.*)$/.exec(words[i])
    if (redirect) {
      const target = redirect[3] || words[++i] || ''
      if (target.startsWith('&')) continue
      if (target === '/dev/null') continue
      const path = normalize(target, cwd, home)
      effects.push(redirect[2] === '<' ? { kind: 'reads', path } : { kind: 'writes', path })
    } else {
      args.push(words[i])
    }
  }
  while (args.length > 1 && WRAPPERS.has(args[0])) args.shift()
  const [first = '', ...rest] = args
  const program = first.slice(first.lastIndexOf('/') + 1)
  const text = words.join(' ')
  const sub: SubCommand = { program, args: rest, cwd, text, effects }
  if (HIDDEN_CODE.has(program)) sub.opaque = `"${program}" runs code the analysis cannot read`
  const query = rest.length === 1 && ['--version', '-V', '--help'].includes(rest[0])
  if (INTERPRETERS.has(program) && !query) sub.opaque = `"${program}" runs code that is not analysed`
  if (DOWNLOAD_AND_RUN.has(program)) sub.opaque = `"${program}" downloads and runs a package`
  if (INSTALLERS[program] && RUNS_PACKAGE_CODE.has(rest[0] ?? '')) sub.opaque = `"${program} ${rest[0]}" runs project or package code`
  const installVerbs = INSTALLERS[program]
  if (installVerbs && rest.length > 0 && installVerbs.includes(rest[0])) effects.push({ kind: 'installs' })
  if (FETCHERS.has(program)) {
    for (const arg of rest) if (/^https?:\/\//.test(arg)) effects.push({ kind: 'network', target: arg })
  }
  return sub
}

// Command patterns: words compared one by one with `*` as a glob inside a
// word, and a final lone `*` matching any remaining arguments, none included.
export class CommandPattern {
  private readonly words: RegExp[]
  private readonly rest: boolean

  constructor(readonly text: string) {
    const words = text.trim().split(/\s+/)
    this.rest = words.length > 1 && words[words.length - 1] === '*'
    if (this.rest) words.pop()
    this.words = words.map((word) => new RegExp(`^${word.replace(/[.+^$()|\\[\]{}?]/g, '\\$&').replace(/\*/g, '.*')}$`))
  }

  matches(sub: SubCommand): boolean {
    const words = [sub.program, ...sub.args]
    if (this.rest ? words.length < this.words.length : words.length !== this.words.length) return false
    for (let i = 0; i < this.words.length; i++) if (!this.words[i].test(words[i])) return false
    return true
  }
}
