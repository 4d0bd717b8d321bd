import CSQLite

/// SQLite's own page cache, with one thing kept beside it: the highest page number the cache can
/// hold. Every commit asks the cache to drop the pages past the end of the database
/// (`xTruncate`). SQLite's cache decides whether to look from the highest page number it has
/// ever seen, and a B-tree rebalance moves pages through temporary numbers past the end (in
/// SQLite 3.40, page 262,145): after that, the next commit walks every page of the cache. An
/// in-memory database is all in its cache, so each send paid a walk over the whole region (about
/// 10 % of a send's CPU). Here the temporary numbers are followed until the page leaves them, and
/// a truncate with nothing past its limit is not passed on.
///
/// Installed once, before the process opens its first database; if SQLite was already in use (an
/// application that opened a database first), the cache stays as it was.
enum PageCache {
    /// Whether the wrapper is in place (false when SQLite was initialized before it).
    static let installed: Bool = install()

    /// SQLite's own methods (a constant: no exclusivity check on each page fetch). Read before the
    /// process opens a database, or never (then `xCreate` is nil).
    private nonisolated(unsafe) static let inner: sqlite3_pcache_methods2 = {
        var methods = sqlite3_pcache_methods2()
        guard nylas_sim_sqlite3_get_pcache2(&methods) == SQLITE_OK else { return sqlite3_pcache_methods2() }
        return methods
    }()

    /// One cache: SQLite's, and the highest page number it can hold.
    private struct Cache {
        var inner: OpaquePointer
        /// No page was created with a higher number since the last truncate passed on.
        var maxKey: UInt32 = 0
        /// Pages moved to a number above `maxKey` and not moved away since (a rebalance's
        /// temporary numbers); zero is a free slot. More than fit: `maxKey` takes the number.
        var moved: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)

        var highest: UInt32 {
            withUnsafeBytes(of: moved) { max(maxKey, $0.bindMemory(to: UInt32.self).max() ?? 0) }
        }

        mutating func forget(_ key: UInt32) {
            withUnsafeMutableBytes(of: &moved) { raw in
                let slots = raw.bindMemory(to: UInt32.self)
                if let i = slots.firstIndex(of: key) { slots[i] = 0 }
            }
        }

        mutating func note(_ key: UInt32) {
            guard key > maxKey else { return }
            let placed = withUnsafeMutableBytes(of: &moved) { raw -> Bool in
                let slots = raw.bindMemory(to: UInt32.self)
                guard let i = slots.firstIndex(of: 0) else { return false }
                slots[i] = key
                return true
            }
            if !placed { maxKey = key }
        }

        mutating func truncated(below limit: UInt32) {
            maxKey = min(maxKey, limit &- 1)
            withUnsafeMutableBytes(of: &moved) { raw in
                let slots = raw.bindMemory(to: UInt32.self)
                for i in slots.indices where slots[i] >= limit { slots[i] = 0 }
            }
        }
    }

    private static func cache(_ p: OpaquePointer?) -> UnsafeMutablePointer<Cache> {
        UnsafeMutablePointer<Cache>(p!)
    }

    private static func install() -> Bool {
        guard inner.xCreate != nil else { return false }
        var wrapper = inner  // SQLite keeps a copy
        wrapper.xCreate = { size, extra, purgeable in
            guard let made = PageCache.inner.xCreate!(size, extra, purgeable) else { return nil }
            let c = UnsafeMutablePointer<Cache>.allocate(capacity: 1)
            c.initialize(to: Cache(inner: made))
            return OpaquePointer(c)
        }
        wrapper.xCachesize = { p, n in PageCache.inner.xCachesize!(PageCache.cache(p).pointee.inner, n) }
        wrapper.xPagecount = { p in PageCache.inner.xPagecount!(PageCache.cache(p).pointee.inner) }
        wrapper.xFetch = { p, key, create in
            let c = PageCache.cache(p)
            let page = PageCache.inner.xFetch!(c.pointee.inner, key, create)
            if create != 0, page != nil, key > c.pointee.maxKey { c.pointee.maxKey = key }
            return page
        }
        wrapper.xUnpin = { p, page, discard in PageCache.inner.xUnpin!(PageCache.cache(p).pointee.inner, page, discard) }
        wrapper.xRekey = { p, page, old, new in
            let c = PageCache.cache(p)
            PageCache.inner.xRekey!(c.pointee.inner, page, old, new)
            c.pointee.forget(old)
            c.pointee.note(new)
        }
        wrapper.xTruncate = { p, limit in
            let c = PageCache.cache(p)
            guard limit <= c.pointee.highest else { return }  // nothing at or past `limit`
            PageCache.inner.xTruncate!(c.pointee.inner, limit)
            c.pointee.truncated(below: limit)
        }
        wrapper.xDestroy = { p in
            let c = PageCache.cache(p)
            PageCache.inner.xDestroy!(c.pointee.inner)
            c.deinitialize(count: 1)
            c.deallocate()
        }
        wrapper.xShrink = { p in PageCache.inner.xShrink!(PageCache.cache(p).pointee.inner) }
        return nylas_sim_sqlite3_set_pcache2(&wrapper) == SQLITE_OK
    }
}
