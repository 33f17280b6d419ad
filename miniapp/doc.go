// Package miniapp reads, checks, builds, stores and signs mini program
// packages: ZIP files laid out as W3C MiniApp Packaging describes, with a
// W3C MiniApp Manifest at their root. The extension is ".ma" and the media
// type "application/miniapp-pkg+zip".
//
// Everything here treats a package as untrusted input. [Open] checks the
// ZIP container (names, entry types, compression methods, encryption,
// collisions) and inflates every entry under the operator's [Limits],
// counting bytes while it decompresses, so a zip bomb is refused after a
// few kilobytes of work. It then checks the manifest and the files it
// names. Problems come back as a [*ValidationError] wrapped in an
// *openmini.Error; warnings that do not block a package sit in
// [Package.Warnings].
//
// [Pack] builds a deterministic package from a project directory (same
// input, same bytes) and [OpenDir] validates a directory as the package it
// would pack to. [StoreContent] writes a package and its files
// content-addressed into a blob.Store. [Sign] and [Verify] produce and check
// the platform's detached Ed25519 signature, whose public keys are
// published as a JWK Set ([MarshalKeySet], [ParseKeySet]). [Init] writes a
// new project from one of the embedded templates.
//
// The format, limits, rules and signature file are described for
// developers in docs/packages.md.
package miniapp

// MediaType is the media type of a mini program package.
const MediaType = "application/miniapp-pkg+zip"

// Extension is the file name extension of a mini program package.
const Extension = ".ma"
