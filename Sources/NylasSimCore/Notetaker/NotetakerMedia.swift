import Foundation

/// How long each step of a Notetaker bot's meeting takes (documented defaults; the meeting itself
/// ends when the bot is told to leave, or through the control API).
public struct NotetakerTiming: Sendable, Equatable {
    /// `connecting` → `waiting_for_entry` (the bot reaches the waiting room).
    public var connecting: Duration = .seconds(30)
    /// `waiting_for_entry` → `attending` (the host admits the bot).
    public var admission: Duration = .seconds(30)
    /// Leaving → `media_available`.
    public var mediaProcessing: Duration = .seconds(300)
    /// How long a media link is valid from the `GET …/media` that made it (Nylas: 60 minutes).
    public var mediaLinkLifetime: Duration = .seconds(3600)
    /// How long media is kept before the bot goes `media_deleted` (Nylas: 14 days).
    public var mediaRetention: Duration = .seconds(14 * 86400)

    public init() {}
}

/// The files of a bot's media: small, valid and deterministic, served by the simulator itself at
/// signed links that expire on the virtual clock.
package enum NotetakerMedia {
    /// `(kind, name, MIME type)` of the files a bot's settings produce.
    package static func files(_ settings: JSON) -> [(kind: String, name: String, type: String)] {
        let video = settings["video_recording"]?.boolValue ?? true
        let audio = settings["audio_recording"]?.boolValue ?? true
        var out: [(String, String, String)] = []
        if video { out.append(("recording", "meeting_recording.mp4", "video/mp4")) }
        else if audio { out.append(("recording", "meeting_recording.mp3", "audio/mpeg")) }
        if video { out.append(("thumbnail", "thumbnail.png", "image/png")) }
        if settings["transcription"]?.boolValue ?? true {
            out.append(("transcript", "transcript.json", "application/json"))
            if settings["summary"]?.boolValue ?? true { out.append(("summary", "meeting_summary.json", "application/json")) }
            if settings["action_items"]?.boolValue ?? true { out.append(("action_items", "meeting_action_items.json", "application/json")) }
        }
        return out
    }

    /// The bytes of one file of a bot that recorded `seconds` of `title`.
    package static func content(kind: String, type: String, name: String, title: String, seconds: Int) -> [UInt8] {
        switch kind {
        case "recording": return type == "audio/mpeg" ? mp3(seconds: seconds) : mp4(seconds: seconds)
        case "thumbnail": return png
        case "transcript":
            let lines: [JSON] = [
                ["speaker": .string(name), "start": 0, "end": 4000, "text": .string("Recording started for \(title).")],
                ["speaker": "Host", "start": 4000, "end": 9000, "text": .string("Welcome, everyone, to \(title).")],
                ["speaker": "Host", "start": 9000, "end": .int(max(9000, seconds * 1000)), "text": "Thanks for joining; that is all for today."],
            ]
            return (["object": "transcript", "type": "speaker_labelled", "transcript": .array(lines)] as JSON).bytes
        case "summary":
            return (["object": "summary", "summary": .string("\(title): a meeting of \(seconds / 60) minutes, recorded by \(name).")] as JSON).bytes
        default:
            return (["object": "action_items", "action_items": [.string("Share the notes of \(title)")]] as JSON).bytes
        }
    }

    /// A 1×1 PNG.
    static let png: [UInt8] = Array(Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")!)

    /// MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz: 417 bytes, 26 ms each), one second
    /// at most: a valid file any player opens.
    static func mp3(seconds: Int) -> [UInt8] {
        let frame: [UInt8] = [0xFF, 0xFB, 0x90, 0x64] + [UInt8](repeating: 0, count: 413)
        return Array((0..<38).map { _ in frame }.joined())
    }

    /// An ISO base media file: `ftyp` and a `moov` whose movie header says `seconds` long (no
    /// tracks: an empty movie, which media tools open).
    static func mp4(seconds: Int) -> [UInt8] {
        func u32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func box(_ type: String, _ body: [UInt8]) -> [UInt8] { u32(UInt32(8 + body.count)) + Array(type.utf8) + body }
        let ftyp = box("ftyp", Array("isom".utf8) + u32(512) + Array("isomiso2mp41".utf8))
        var mvhd: [UInt8] = [0, 0, 0, 0] + u32(0) + u32(0) + u32(1000) + u32(UInt32(max(0, seconds)) * 1000)
        mvhd += u32(0x0001_0000) + [0x01, 0x00] + [UInt8](repeating: 0, count: 10)
        for v: UInt32 in [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] { mvhd += u32(v) }
        mvhd += [UInt8](repeating: 0, count: 24) + u32(1)
        return ftyp + box("moov", box("mvhd", mvhd))
    }

    // MARK: Links

    /// Signs the links of this process (a link outlives neither its expiry nor the process).
    private static let keyBytes: [UInt8] = (0..<32).map { _ in UInt8.random(in: 0...255) }

    static func signature(_ id: String, _ kind: String, _ expires: Int) -> String {
        Base64URL.encode(Digest.hmacSHA256(key: keyBytes, Array("\(id)|\(kind)|\(expires)".utf8)))
    }

    /// `base` + the path of a signed link to one file.
    package static func link(base: String, id: String, kind: String, name: String, expires: Int) -> String {
        "\(base)/notetaker-media/\(id)/\(kind)/\(name)?expires=\(expires)&signature=\(signature(id, kind, expires))"
    }

    package static func verify(id: String, kind: String, expires: Int, signature given: String) -> Bool {
        let expected = Array(signature(id, kind, expires).utf8), got = Array(given.utf8)
        guard expected.count == got.count else { return false }
        return zip(expected, got).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
