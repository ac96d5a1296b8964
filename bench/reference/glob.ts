// Glob patterns compiled to regular expressions, with the options the
// policy engine uses: `literalSeparator` keeps `*` and `?` from crossing
// `/`, and `**` crosses it. Supports `*`, `?`, `**`, `{a,b}`, `[...]` and
// backslash escapes, which covers every pattern of bench/policy-200.json.

export interface GlobOptions {
  literalSeparator: boolean
  caseInsensitive: boolean
}

const SPECIAL = /[.+^$()|\\/]/

export function globToRegExp(glob: string, options: GlobOptions): RegExp {
  const anySegment = options.literalSeparator ? '[^/]*' : '.*'
  const oneChar = options.literalSeparator ? '[^/]' : '.'
  let source = ''
  let braceDepth = 0
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]
    if (char === '\\' && i + 1 < glob.length) {
      source += escapeChar(glob[++i])
    } else if (char === '*' && glob[i + 1] === '*') {
      const atStart = i === 0 || glob[i - 1] === '/'
      const slashAfter = glob[i + 2] === '/'
      if (atStart && slashAfter) {
        source += '(?:.*/)?'
        i += 2
      } else {
        source += '.*'
        i += 1
      }
    } else if (char === '*') {
      source += anySegment
    } else if (char === '?') {
      source += oneChar
    } else if (char === '{') {
      braceDepth++
      source += '(?:'
    } else if (char === '}' && braceDepth > 0) {
      braceDepth--
      source += ')'
    } else if (char === ',' && braceDepth > 0) {
      source += '|'
    } else if (char === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end < 0) {
        source += '\\['
        continue
      }
      let body = glob.slice(i + 1, end)
      if (body.startsWith('!')) body = '^' + body.slice(1)
      source += `[${body.replace(/\\/g, '\\\\')}]`
      i = end
    } else {
      source += escapeChar(char)
    }
  }
  return new RegExp(`^${source}$`, options.caseInsensitive ? 'i' : '')
}

function escapeChar(char: string): string {
  return SPECIAL.test(char) || char === '*' || char === '?' || char === '[' || char === ']' || char === '{' || char === '}'
    ? `\\${char}`
    : char
}
