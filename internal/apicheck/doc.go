// Package apicheck holds a test, and nothing else: every exported
// identifier of the module's importable packages names only exported
// types, of this module's public packages, the standard library or a
// dependency, so that code outside the module can use all of it.
package apicheck
