/*
 * The site's search query transform: a pasted error message is searched for whole.
 *
 * Material's search (lunr) reads a query as query syntax: `word:` names a field (an unknown
 * one makes the whole query invalid: no result at all), a leading `-` excludes and `+`
 * requires, `~`, `^` and `*` make fuzzy, boosted and wildcard terms, `"` groups required words
 * and `\` escapes. An error message holds most of these:
 *
 *     VALIDATION_ERROR: Missing variable(s) for prompt 'welcome-message': company
 *
 * Before Material's worker sees a query, this one rewrites it into plain terms, as the index
 * holds them: split where the index splits words, without `"`, `*`, `~` and `^` (never part
 * of a word there) and without the punctuation that ends a word (every term is searched as a
 * prefix, so `company` still finds `company,`), with `:`, `+` and `\` inside a term escaped
 * (`https://api.promptops.com` stays one term). Words that cannot tell pages apart are left
 * out, and each whole word counts once more than the longer words it begins (see below). A
 * query of plain words keeps its words.
 *
 * The escapes are doubled: Material's worker reads the query twice, once with lunr's query
 * lexer in its own transform (which drops one level of escapes), then in lunr's search.
 *
 * Material 9 has no setting for this (the `__search.transform` of Material 5 to 8 is gone):
 * overrides/main.html points Material at this worker instead of its own, and passes the URL
 * of Material's worker, which this one loads. tests/browser/test_symptom_search.py checks the
 * result in Chromium.
 */
"use strict"

/* Material's worker messages: SETUP (0) carries the index and its config, QUERY (2) a query */
var SETUP = 0
var QUERY = 2

/* Where the index splits words (its separator, from SETUP); `-` is lunr's query syntax (a
   leading one excludes), so it splits here as well */
var separator = /[\s\-]+/

/* Whether the index leaves stop words out (its pipeline, from SETUP) */
var stopWords = false

/* A term that cannot tell pages apart: a stop word, which the index leaves out, or a single
   character. Material searches every term as a prefix: "a" or "s" would match most words */
function noise(term) {
  var word = term.toLowerCase()
  return word.length === 1 || (stopWords && !self.lunr.stopWordFilter(word))
}

/* A term without the punctuation that ends it (`VALIDATION_ERROR:` finds `VALIDATION_ERROR`
   and `VALIDATION_ERROR:`), unless that leaves a single character (`2]` of `[Errno -2]`) */
function trim(term) {
  var word = term.replace(/[^\p{L}\p{N}]+$/u, "")
  return word.length > 1 ? word : term
}

/* A class's module, as a traceback names it (`httpx.` of `httpx.ReadTimeout`,
   `snippets.client.errors.` of `...errors.ValidationError`): the index splits a dot before a
   capital, and a page names the class by itself; `httpx` alone would rank every page that
   mentions httpx in a heading (`httpx[socks]`) */
var modulePrefix = /[\p{L}\p{N}_]+(?:\.[\p{L}\p{N}_]+)*\.(?=\p{Lu})/gu

/* The query lunr gets. Every term but the last is a whole word, pasted or typed: it is
   searched for as Material does (a prefix: the word, and every longer word it begins) and as
   itself (`^1`, which Material leaves exact), so that `name` counts for `name` more than for
   `namespace`. The last term may be a word still being typed: a prefix only, whatever it is */
function transform(query) {
  var typed = query
    .replace(modulePrefix, "")
    .replace(/["*~^]+/g, " ")
    .split(separator)
    .filter(function (term) { return /[\p{L}\p{N}]/u.test(term) })
    .map(trim)
  var last = typed.length - 1
  var clauses = []
  typed.forEach(function (term, index) {
    if (index < last && noise(term)) return
    var escaped = term.replace(/[:+\\]/g, "\\\\\\$&")
    clauses.push(escaped)
    if (index < last) clauses.push(escaped + "^1")
  })
  return clauses.join(" ")
}

/* Registered before Material's worker is loaded, so it runs first on every message */
self.addEventListener("message", function (event) {
  var message = event.data
  if (!message) return
  if (message.type === SETUP && message.data && message.data.config) {
    var config = message.data.config
    separator = new RegExp("(?:" + config.separator + ")|[\\s\\-]+")
    stopWords = config.pipeline.indexOf("stopWordFilter") !== -1
  }
  if (message.type === QUERY && typeof message.data === "string")
    message.data = transform(message.data)
})

importScripts(new URL(self.location.href).searchParams.get("worker"))
