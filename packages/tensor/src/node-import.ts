/**
 * Imports a Node built-in (or the optional `webgpu` package) at run time, from a specifier
 * bundlers do not follow: browser bundles of the package stay free of Node modules, and the
 * Node-only paths that call this (file I/O, Dawn) fail with Node's own error elsewhere.
 */
export function nodeImport<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<T>;
}
