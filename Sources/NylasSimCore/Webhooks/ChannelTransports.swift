import Foundation

/// Where the notification channels publish: Google Cloud Pub/Sub's REST API and Amazon SNS's
/// query API, at endpoints a test points at the local emulators (the Pub/Sub emulator, moto's
/// server). The defaults follow the variables Google's and AWS's own clients read.
public struct ChannelEndpoints: Sendable, Equatable {
    /// Base URL of the Pub/Sub API: `PUBSUB_EMULATOR_HOST` (host:port, plain HTTP) when set,
    /// else Google's `https://pubsub.googleapis.com`.
    public var pubsub: String
    /// Bearer token sent to Pub/Sub (the emulator needs none).
    public var pubsubToken: String?
    /// Base URL of the SNS (and STS) API: `AWS_ENDPOINT_URL_SNS`, else `AWS_ENDPOINT_URL`, else the
    /// topic's region at `https://sns.<region>.amazonaws.com`.
    public var sns: String?
    /// The credentials that sign SNS requests (SigV4): `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`,
    /// else moto's `test`/`test`. The channel's `role_arn` is assumed first (STS `AssumeRole`) and its
    /// temporary credentials sign the publish, as Nylas does.
    public var awsAccessKeyID: String
    public var awsSecretAccessKey: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        pubsub = environment["PUBSUB_EMULATOR_HOST"].map { $0.hasPrefix("http") ? $0 : "http://" + $0 } ?? "https://pubsub.googleapis.com"
        pubsubToken = nil
        sns = environment["AWS_ENDPOINT_URL_SNS"] ?? environment["AWS_ENDPOINT_URL"]
        awsAccessKeyID = environment["AWS_ACCESS_KEY_ID"] ?? "test"
        awsSecretAccessKey = environment["AWS_SECRET_ACCESS_KEY"] ?? "test"
    }
}

/// One publish to a channel, prepared under the lock and sent without it.
package struct ChannelPublish: Sendable {
    package enum Kind: String, Sendable { case pubsub, sns }
    package let kind: Kind
    package let topic: String
    package let roleARN: String?
    package let body: [UInt8]
    package let attributes: [String: String]

    /// Sends it; returns the HTTP status of the publish, or throws the transport failure.
    package func send(_ endpoints: ChannelEndpoints, timeout: Duration) async throws -> Int {
        switch kind {
        case .pubsub: return try await PubSubPublisher.publish(self, endpoints, timeout: timeout)
        case .sns: return try await SNSPublisher.publish(self, endpoints, timeout: timeout)
        }
    }
}

/// `POST {endpoint}/v1/projects/{project}/topics/{topic}:publish` with the notification as the
/// message's base64 `data` and the trigger in its attributes.
package enum PubSubPublisher {
    /// `projects/{project}/topics/{topic}`, the form the API takes.
    package static func isTopic(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "projects" && parts[2] == "topics" && !parts[1].isEmpty && !parts[3].isEmpty
    }

    static func publish(_ p: ChannelPublish, _ e: ChannelEndpoints, timeout: Duration) async throws -> Int {
        let message: JSON = ["data": .string(Data(p.body).base64EncodedString()),
                             "attributes": .object(p.attributes.mapValues { .string($0) })]
        var headers = ["Content-Type": "application/json"]
        if let token = e.pubsubToken { headers["Authorization"] = "Bearer \(token)" }
        let base = e.pubsub.hasSuffix("/") ? String(e.pubsub.dropLast()) : e.pubsub
        let url = base + "/v1/" + p.topic + ":publish"
        return try await HTTPClient().send("POST", url, headers: headers, body: (["messages": [message]] as JSON).bytes, timeout: timeout).status
    }
}

/// SNS `Publish` (query API, SigV4), after STS `AssumeRole` of the channel's role.
package enum SNSPublisher {
    /// `arn:aws:sns:{region}:{account}:{topic}`.
    package static func region(ofTopic arn: String) -> String? {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "sns", !parts[3].isEmpty,
              !parts[4].isEmpty, !parts[5].isEmpty else { return nil }
        return String(parts[3])
    }

    /// `arn:aws:iam::{account-id}:role/{name}`.
    package static func isRoleARN(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[3].isEmpty && !parts[4].isEmpty
            && parts[5].hasPrefix("role/") && parts[5].count > 5
    }

    struct Credentials { let key: String; let secret: String; let token: String? }

    static func publish(_ p: ChannelPublish, _ e: ChannelEndpoints, timeout: Duration) async throws -> Int {
        let region = region(ofTopic: p.topic) ?? "us-east-1"
        let endpoint = e.sns ?? "https://sns.\(region).amazonaws.com"
        var credentials = Credentials(key: e.awsAccessKeyID, secret: e.awsSecretAccessKey, token: nil)
        if let role = p.roleARN {
            let form = ["Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role, "RoleSessionName": "nylas-notifications"]
            let r = try await post(endpoint, form: form, service: "sts", region: region, credentials: credentials, timeout: timeout)
            guard (200..<300).contains(r.status) else { return r.status }
            let xml = String(decoding: r.body, as: UTF8.self)
            guard let key = tag("AccessKeyId", xml), let secret = tag("SecretAccessKey", xml) else { return 502 }
            credentials = Credentials(key: key, secret: secret, token: tag("SessionToken", xml))
        }
        var form = ["Action": "Publish", "Version": "2010-03-31", "TopicArn": p.topic, "Message": String(decoding: p.body, as: UTF8.self)]
        for (i, (name, value)) in p.attributes.sorted(by: { $0.key < $1.key }).enumerated() {
            form["MessageAttributes.entry.\(i + 1).Name"] = name
            form["MessageAttributes.entry.\(i + 1).Value.DataType"] = "String"
            form["MessageAttributes.entry.\(i + 1).Value.StringValue"] = value
        }
        return try await post(endpoint, form: form, service: "sns", region: region, credentials: credentials, timeout: timeout).status
    }

    private static func tag(_ name: String, _ xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }

    private static func post(_ endpoint: String, form: [String: String], service: String, region: String,
                             credentials: Credentials, timeout: Duration) async throws -> HTTPClient.Response {
        let body = Array(form.sorted { $0.key < $1.key }.map { "\(QueryParameters.encode($0.key))=\(QueryParameters.encode($0.value))" }
            .joined(separator: "&").utf8)
        guard let url = URL(string: endpoint), let host = url.host else { throw HTTPClient.Failure.invalidURL(endpoint) }
        let hostHeader = url.port.map { "\(host):\($0)" } ?? host
        var headers = ["Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": hostHeader]
        if let token = credentials.token { headers["X-Amz-Security-Token"] = token }
        headers = SigV4.sign(method: "POST", path: url.path.isEmpty ? "/" : url.path, headers: headers, body: body, service: service,
                             region: region, accessKey: credentials.key, secretKey: credentials.secret, date: Date())
        return try await HTTPClient().send("POST", endpoint, headers: headers, body: body, timeout: timeout)
    }
}

/// AWS Signature Version 4 for a request without a query string.
package enum SigV4 {

    /// The headers with `X-Amz-Date` and `Authorization` added.
    package static func sign(method: String, path: String, headers: [String: String], body: [UInt8], service: String,
                             region: String, accessKey: String, secretKey: String, date: Date) -> [String: String] {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let amzDate = f.string(from: date)
        let day = String(amzDate.prefix(8))
        var out = headers
        out["X-Amz-Date"] = amzDate
        let canonical = out.map { ($0.key.lowercased(), $0.value.trimmingCharacters(in: .whitespaces)) }.sorted { $0.0 < $1.0 }
        let signedHeaders = canonical.map(\.0).joined(separator: ";")
        let request = [method, path, "", canonical.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders,
                       Digest.hex(Digest.sha256(body))].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", amzDate, scope, Digest.hex(Digest.sha256(Array(request.utf8)))].joined(separator: "\n")
        var key = Array(("AWS4" + secretKey).utf8)
        for part in [day, region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, Array(part.utf8)) }
        let signature = Digest.hex(Digest.hmacSHA256(key: key, Array(toSign.utf8)))
        out["Authorization"] = "AWS4-HMAC-SHA256 Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return out
    }
}
