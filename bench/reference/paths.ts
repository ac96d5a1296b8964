// Lexical path normalisation for the reference: no symlinks are resolved,
// which matches the Rust side for paths that do not exist on disk.

export function normalize(path: string, cwd: string, home: string): string {
  let absolute = path
  if (path === '~' || path.startsWith('~/')) absolute = home + path.slice(1)
  else if (path.startsWith('$HOME')) absolute = home + path.slice(5)
  else if (!path.startsWith('/')) absolute = `${cwd}/${path}`
  const parts: string[] = []
  for (const part of absolute.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return '/' + parts.join('/')
}

export function isInside(path: string, worktree: string): boolean {
  return path === worktree || path.startsWith(worktree + '/')
}
