import Foundation

/// Renders Nylas templates in the four engines the API names: `mustache` and `handlebars`
/// (`{{x}}` escaped, `{{{x}}}` raw, sections `{{#x}}…{{/x}}`, `{{^x}}`, handlebars' `{{#each}}`,
/// `{{#if}}`, `{{#unless}}`, `{{else}}`, `{{this}}`), and `nunjucks` and `twig` (`{{ x }}` escaped,
/// `| safe` / `| raw` unescaped, `| upper`, `| lower`, `| default("…")`, `{% for i in xs %}`,
/// `{% if x %}…{% else %}…{% endif %}`, `{# comments #}`). Paths are dotted (`user.name`). With
/// `strict`, a variable the data does not define is an error, as Nylas's `strict: true` is.
package enum TemplateRenderer {
    package static let engines: Set<String> = ["handlebars", "mustache", "nunjucks", "twig"]

    package struct MissingVariable: Error { package let name: String }
    package struct SyntaxError: Error { package let message: String }

    indirect enum Node {
        case text(String)
        case value(path: String, escape: Bool, filters: [String])
        /// A mustache section, handlebars block (`each`, `if`, `unless`) or nunjucks/twig `for`/`if`.
        case block(kind: String, path: String, variable: String?, body: [Node], otherwise: [Node])
    }

    package static func render(_ template: String, engine: String, variables: JSON, strict: Bool) throws -> String {
        let nodes = try parse(template, jinja: engine == "nunjucks" || engine == "twig")
        var out = ""
        try render(nodes, scopes: [variables], strict: strict, into: &out)
        return out
    }

    // MARK: Parsing

    private struct Tag { let text: String; let raw: Bool }

    static func parse(_ template: String, jinja: Bool) throws -> [Node] {
        var stack: [(kind: String, path: String, variable: String?, body: [Node], otherwise: [Node], inElse: Bool)] = []
        var root: [Node] = []
        func append(_ n: Node) {
            if stack.isEmpty { root.append(n); return }
            if stack[stack.count - 1].inElse { stack[stack.count - 1].otherwise.append(n) } else { stack[stack.count - 1].body.append(n) }
        }
        func open(_ kind: String, _ path: String, _ variable: String? = nil) { stack.append((kind, path, variable, [], [], false)) }
        func close(_ kinds: Set<String>, _ what: String) throws {
            guard let top = stack.popLast(), kinds.contains(top.kind) else { throw SyntaxError(message: "unexpected \(what)") }
            append(.block(kind: top.kind, path: top.path, variable: top.variable, body: top.body, otherwise: top.otherwise))
        }
        var rest = Substring(template)
        while !rest.isEmpty {
            let next = jinja ? rest.firstRange(ofAny: ["{{", "{%", "{#"]) : rest.range(of: "{{")
            guard let start = next else { append(.text(String(rest))); break }
            if start.lowerBound > rest.startIndex { append(.text(String(rest[..<start.lowerBound]))) }
            let opener = String(rest[start])
            let after = rest[start.upperBound...]
            if jinja {
                let closer = opener == "{{" ? "}}" : opener == "{%" ? "%}" : "#}"
                guard let end = after.range(of: closer) else { throw SyntaxError(message: "unclosed \(opener)") }
                let inner = after[..<end.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: "-").union(.whitespaces))
                rest = after[end.upperBound...]
                switch opener {
                case "{#": continue
                case "{{":
                    var parts = inner.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                    let path = parts.removeFirst()
                    let raw = parts.contains { $0 == "safe" || $0 == "raw" }
                    append(.value(path: path, escape: !raw, filters: parts))
                default:
                    let words = inner.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                    switch words.first {
                    case "for":
                        guard words.count == 4, words[2] == "in" else { throw SyntaxError(message: "expected {% for x in list %}") }
                        open("for", words[3], words[1])
                    case "if": open("if", words.dropFirst().joined(separator: " "))
                    case "else":
                        guard !stack.isEmpty else { throw SyntaxError(message: "else outside a block") }
                        stack[stack.count - 1].inElse = true
                    case "endfor": try close(["for"], "endfor")
                    case "endif": try close(["if"], "endif")
                    default: throw SyntaxError(message: "unsupported tag {% \(inner) %}")
                    }
                }
                continue
            }
            // mustache / handlebars
            let triple = after.hasPrefix("{")
            let closer = triple ? "}}}" : "}}"
            let body = triple ? after.dropFirst() : after
            guard let end = body.range(of: closer) else { throw SyntaxError(message: "unclosed {{") }
            let inner = body[..<end.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = body[end.upperBound...]
            if triple { append(.value(path: inner, escape: false, filters: [])); continue }
            guard let sigil = inner.first else { throw SyntaxError(message: "empty tag {{}}") }
            let name = inner.dropFirst().trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "!": continue
            case "&": append(.value(path: name, escape: false, filters: []))
            case "#":
                let words = name.split(separator: " ").map(String.init)
                if ["each", "if", "unless", "with"].contains(words.first ?? ""), words.count == 2 { open(words[0], words[1]) } else { open("section", name) }
            case "^": open("inverted", name)
            case "/":
                try close(name == "each" || name == "if" || name == "unless" || name == "with" ? [name] : ["section", "inverted"], "{{/\(name)}}")
            default:
                if inner == "else" {
                    guard !stack.isEmpty else { throw SyntaxError(message: "{{else}} outside a block") }
                    stack[stack.count - 1].inElse = true
                } else {
                    append(.value(path: inner, escape: true, filters: []))
                }
            }
        }
        guard stack.isEmpty else { throw SyntaxError(message: "unclosed block \(stack.last!.kind) \(stack.last!.path)") }
        return root
    }

    // MARK: Rendering

    static func lookup(_ path: String, _ scopes: [JSON]) -> JSON? {
        if path == "." || path == "this" { return scopes.last }
        let parts = path.hasPrefix("this.") ? Array(path.dropFirst(5).split(separator: ".")) : path.split(separator: ".")
        for scope in scopes.reversed() {
            var v: JSON? = scope
            for p in parts {
                if case .array(let items)? = v, let i = Int(p), items.indices.contains(i) { v = items[i]; continue }
                v = v?[String(p)]
            }
            if let v, !(parts.count == 1 && v.isNull && scope[String(parts[0])] == nil) { return v }
        }
        return nil
    }

    static func truthy(_ v: JSON?) -> Bool {
        switch v {
        case nil, .null?: return false
        case .bool(let b)?: return b
        case .string(let s)?: return !s.isEmpty
        case .array(let a)?: return !a.isEmpty
        case .int(let i)?: return i != 0
        case .double(let d)?: return d != 0
        default: return true
        }
    }

    static func text(_ v: JSON) -> String {
        switch v {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        default: return String(decoding: v.bytes, as: UTF8.self)
        }
    }

    static func render(_ nodes: [Node], scopes: [JSON], strict: Bool, into out: inout String) throws {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .value(let path, let esc, let filters):
                var value = lookup(path, scopes)
                var defaulted = false
                for f in filters where f.hasPrefix("default") {
                    if value == nil || value?.isNull == true {
                        let arg = f.drop { $0 != "(" }.dropFirst().dropLast().trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
                        value = .string(arg)
                        defaulted = true
                    }
                }
                if value == nil, strict, !defaulted { throw MissingVariable(name: path) }
                var s = text(value ?? .null)
                for f in filters {
                    if f == "upper" { s = s.uppercased() } else if f == "lower" { s = s.lowercased() } else if f == "capitalize" {
                        s = s.prefix(1).uppercased() + s.dropFirst().lowercased()
                    } else if f == "trim" { s = s.trimmingCharacters(in: .whitespacesAndNewlines) }
                }
                out += esc ? HTML.escape(s) : s
            case .block(let kind, let path, let variable, let body, let otherwise):
                let value = kind == "if" && path.contains(" ") ? condition(path, scopes) : lookup(path, scopes)
                if value == nil, strict, kind != "if", kind != "unless", kind != "inverted" { throw MissingVariable(name: path) }
                switch kind {
                case "section", "each", "for":
                    if case .array(let items)? = value {
                        if items.isEmpty { try render(otherwise, scopes: scopes, strict: strict, into: &out) }
                        for item in items {
                            let scope: JSON = variable.map { [$0: item] } ?? item
                            try render(body, scopes: scopes + [scope], strict: strict, into: &out)
                        }
                    } else if truthy(value) {
                        let scope: JSON = variable.map { [$0: value!] } ?? value!
                        try render(body, scopes: kind == "section" ? scopes + [scope] : scopes, strict: strict, into: &out)
                    } else {
                        try render(otherwise, scopes: scopes, strict: strict, into: &out)
                    }
                case "with":
                    try render(truthy(value) ? body : otherwise, scopes: truthy(value) ? scopes + [value!] : scopes, strict: strict, into: &out)
                case "inverted", "unless":
                    try render(truthy(value) ? otherwise : body, scopes: scopes, strict: strict, into: &out)
                default:  // if
                    try render(truthy(value) ? body : otherwise, scopes: scopes, strict: strict, into: &out)
                }
            }
        }
    }

    /// `{% if a == "b" %}`, `!=`, `not a`: the small expressions templates use.
    static func condition(_ expr: String, _ scopes: [JSON]) -> JSON? {
        if expr.hasPrefix("not ") { return .bool(!truthy(condition(String(expr.dropFirst(4)), scopes) ?? lookup(String(expr.dropFirst(4)), scopes))) }
        for op in ["==", "!="] {
            let parts = expr.components(separatedBy: op)
            if parts.count == 2 {
                let l = parts[0].trimmingCharacters(in: .whitespaces), r = parts[1].trimmingCharacters(in: .whitespaces)
                func operand(_ t: String) -> String {
                    t.first == "\"" || t.first == "'" ? String(t.dropFirst().dropLast()) : lookup(t, scopes).map(text) ?? t
                }
                return .bool((operand(l) == operand(r)) == (op == "=="))
            }
        }
        return lookup(expr, scopes)
    }
}

extension Substring {
    /// The first of `needles` to occur.
    func firstRange(ofAny needles: [String]) -> Range<Substring.Index>? {
        needles.compactMap { range(of: $0) }.min { $0.lowerBound < $1.lowerBound }
    }
}
