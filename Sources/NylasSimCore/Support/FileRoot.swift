import Foundation

/// The one directory under which files named in control requests (fixture and scenario `path`s)
/// are read: the server's working directory unless configured (`serve --file-root`,
/// `SimulatorOptions.fileRoot`). A path that leaves it, by `..` or a symbolic link, is refused
/// without reading it, so no request can make the server echo a file of its machine.
package struct FileRoot: Sendable {
    package let directory: String

    package init(_ directory: String?) {
        let base = directory ?? FileManager.default.currentDirectoryPath
        self.directory = URL(fileURLWithPath: base, isDirectory: true).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// The absolute path of `path` (relative to the root), or a 400 naming `field` when it lies outside.
    package func resolve(_ path: String, field: String) throws(NylasError) -> String {
        let root = URL(fileURLWithPath: directory, isDirectory: true)
        let url = URL(fileURLWithPath: path, relativeTo: root).standardizedFileURL.resolvingSymlinksInPath()
        guard url.path == directory || url.path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/") else {
            throw NylasError.invalidValue(field, "files are read only under the simulator's file root \(directory) (serve --file-root)")
        }
        return url.path
    }
}
