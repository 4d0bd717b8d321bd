#if TLS
import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509
import NylasSimCore

/// The local certificate authority that `--tls` serves from: generated once (P-256 keys,
/// swift-certificates), kept in a directory, and trusted by clients through its `ca.pem`.
public struct LocalCertificateAuthority: Sendable {
    /// The CA certificate a client trusts (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`).
    public let caCertificatePath: String
    /// The server certificate for localhost, 127.0.0.1, ::1 and the real Nylas host names.
    public let serverCertificatePath: String
    public let serverKeyPath: String

    /// Host names the server certificate is valid for.
    public static let dnsNames = ["localhost", "api.us.nylas.com", "api.eu.nylas.com", "api.nylas.com", "ireland.api.nylas.com"]

    /// Loads the CA from `directory`, creating it (and the server certificate) on first use.
    public static func ensure(directory: String) throws -> LocalCertificateAuthority {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let caPath = directory + "/ca.pem", caKeyPath = directory + "/ca-key.pem"
        let serverPath = directory + "/server.pem", serverKeyPath = directory + "/server-key.pem"
        let now = Date()

        let caKey: P256.Signing.PrivateKey
        let ca: Certificate
        if fm.fileExists(atPath: caPath), fm.fileExists(atPath: caKeyPath) {
            caKey = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: caKeyPath, encoding: .utf8))
            ca = try Certificate(pemEncoded: String(contentsOfFile: caPath, encoding: .utf8))
        } else {
            caKey = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("NylasSimulator")
                CommonName("NylasSimulator Local CA")
            }
            ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(3650 * 86400),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(caKey.publicKey))
                },
                issuerPrivateKey: .init(caKey))
            try write(caKey.pemRepresentation, to: caKeyPath, mode: 0o600)
            try write(try ca.serializeAsPEM().pemString, to: caPath, mode: 0o644)
            try? fm.removeItem(atPath: serverPath)
        }

        if !fm.fileExists(atPath: serverPath) || !fm.fileExists(atPath: serverKeyPath) {
            let key = P256.Signing.PrivateKey()
            let subject = try DistinguishedName {
                OrganizationName("NylasSimulator")
                CommonName("localhost")
            }
            var names: [GeneralName] = dnsNames.map { .dnsName($0) }
            names.append(.ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])))
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))))
            let caSKI = try ca.extensions.subjectKeyIdentifier
            let leaf = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-86400), notValidAfter: now.addingTimeInterval(825 * 86400),
                issuer: ca.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames(names)
                    SubjectKeyIdentifier(hash: .init(key.publicKey))
                    if let caSKI { AuthorityKeyIdentifier(keyIdentifier: caSKI.keyIdentifier) }
                },
                issuerPrivateKey: .init(caKey))
            try write(key.pemRepresentation, to: serverKeyPath, mode: 0o600)
            let leafPEM = try leaf.serializeAsPEM().pemString
            let caPEM = try ca.serializeAsPEM().pemString
            try write(leafPEM + "\n" + caPEM + "\n", to: serverPath, mode: 0o644)
        }
        return LocalCertificateAuthority(caCertificatePath: caPath, serverCertificatePath: serverPath, serverKeyPath: serverKeyPath)
    }

    private static func write(_ text: String, to path: String, mode: Int) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// The server-side TLS configuration.
    package func serverConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(serverCertificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: serverKeyPath, format: .pem)
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
    }

    /// The default directory of the CA when no data directory is given: `~/.nylas-sim/tls`.
    public static var defaultDirectory: String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? FileManager.default.currentDirectoryPath
        return home + "/.nylas-sim/tls"
    }
}
#endif
