//! The `/ws` wire format (reference/buildbot.md §5.6, Buildbot's `www/ws.py`): parsing client
//! frames into commands, and the replies and event frames the server sends.

use ferrobot_bus::{Event, FULL_WILDCARD, Pattern};
use serde_json::{Map, Value, json};

/// What a client asked for in one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `{"cmd":"ping"}`: answered with a pong.
    Ping,
    /// `{"cmd":"startConsuming","path":...}`: deliver events matching the path.
    StartConsuming(String),
    /// `{"cmd":"stopConsuming","path":...}`: stop delivering them.
    StopConsuming(String),
}

/// One parsed frame: the client's `_id` (echoed in the reply, any JSON value) and its command.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The `_id` the reply carries.
    pub id: Value,
    /// What to do.
    pub command: Command,
}

/// An error reply: `{"error": message, "code": code, "_id": id}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorReply {
    /// Buildbot's HTTP-like code: 400 (bad frame), 404 (unknown command) or 500.
    pub code: u16,
    /// What was wrong, for the client's console.
    pub message: String,
    /// The frame's `_id`, or null when the frame had none (or no `cmd`, as Buildbot does).
    pub id: Value,
}

impl ErrorReply {
    fn new(code: u16, message: impl Into<String>, id: Value) -> ErrorReply {
        ErrorReply {
            code,
            message: message.into(),
            id,
        }
    }

    /// The reply frame's JSON text.
    pub fn to_text(&self) -> String {
        json!({ "error": self.message, "code": self.code, "_id": self.id }).to_string()
    }
}

/// Parses one text frame. The checks follow Buildbot's order: JSON object, `_id`, `cmd`, known
/// command, then the command's arguments (an unexpected or missing one is a 400).
pub fn parse(text: &str) -> Result<Request, ErrorReply> {
    let frame: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(frame)) => frame,
        Ok(_) => {
            return Err(ErrorReply::new(
                400,
                "websocket frame is not a JSON object",
                Value::Null,
            ));
        }
        Err(error) => {
            return Err(ErrorReply::new(
                400,
                format!("websocket frame is not JSON: {error}"),
                Value::Null,
            ));
        }
    };
    let id = match frame.get("_id") {
        None | Some(Value::Null) => {
            return Err(ErrorReply::new(
                400,
                "no '_id' in websocket frame",
                Value::Null,
            ));
        }
        Some(id) => id.clone(),
    };
    // Buildbot answers a frame without `cmd` with `_id: null`; clients match on it as is.
    let cmd = match frame.get("cmd") {
        None | Some(Value::Null) => {
            return Err(ErrorReply::new(
                400,
                "no 'cmd' in websocket frame",
                Value::Null,
            ));
        }
        Some(Value::String(cmd)) => cmd.as_str(),
        Some(other) => {
            return Err(ErrorReply::new(
                404,
                format!("no such command type '{other}'"),
                id,
            ));
        }
    };
    let arguments: &[&str] = match cmd {
        "ping" => &[],
        "startConsuming" | "stopConsuming" => &["path"],
        unknown => {
            return Err(ErrorReply::new(
                404,
                format!("no such command type '{unknown}'"),
                id,
            ));
        }
    };
    if let Some(extra) = frame
        .keys()
        .find(|key| !matches!(key.as_str(), "_id" | "cmd") && !arguments.contains(&key.as_str()))
    {
        return Err(ErrorReply::new(
            400,
            format!("Invalid method argument '{cmd} got an unexpected argument '{extra}''"),
            id,
        ));
    }
    let command = match cmd {
        "ping" => Command::Ping,
        _ => {
            let path = match frame.get("path") {
                None => {
                    return Err(ErrorReply::new(
                        400,
                        format!("Invalid method argument '{cmd} is missing the argument 'path''"),
                        id,
                    ));
                }
                Some(Value::String(path)) => path.clone(),
                Some(other) => {
                    return Err(ErrorReply::new(
                        400,
                        format!("invalid path format '{other}'"),
                        id,
                    ));
                }
            };
            if let Err(message) = pattern(&path) {
                return Err(ErrorReply::new(400, message, id));
            }
            if cmd == "startConsuming" {
                Command::StartConsuming(path)
            } else {
                Command::StopConsuming(path)
            }
        }
    };
    Ok(Request { id, command })
}

/// The bus pattern of a Buildbot path: its `/`-separated segments, `*` matching any one
/// segment, so it matches topics of exactly its length (Buildbot's `tuplematch`). A `>`
/// segment is refused: Buildbot has no multi-segment wildcard, and our bus would read a final
/// `>` as one.
pub fn pattern(path: &str) -> Result<Pattern, String> {
    let pattern = Pattern::parse(path, '/');
    if pattern.0.iter().any(|segment| segment == FULL_WILDCARD) {
        return Err(format!(
            "invalid path format '{path}': '{FULL_WILDCARD}' is not a path segment"
        ));
    }
    Ok(pattern)
}

/// `{"msg":"OK","code":200,"_id":id}`.
pub fn ack(id: &Value) -> String {
    json!({ "msg": "OK", "code": 200, "_id": id }).to_string()
}

/// `{"msg":"pong","code":200,"_id":id}`.
pub fn pong(id: &Value) -> String {
    json!({ "msg": "pong", "code": 200, "_id": id }).to_string()
}

/// The 400 for `stopConsuming` of a path that is not consumed.
pub fn not_consumed(path: &str, id: &Value) -> ErrorReply {
    ErrorReply::new(400, format!("path was not consumed '{path}'"), id.clone())
}

/// The 400 for a path that makes no pattern.
pub fn bad_path(message: impl Into<String>, id: &Value) -> ErrorReply {
    ErrorReply::new(400, message, id.clone())
}

/// The 500 for a subscription the bus refused.
pub fn internal(message: impl Into<String>, id: &Value) -> ErrorReply {
    ErrorReply::new(500, message, id.clone())
}

/// An event frame: `{"k": "builds/12/update", "m": {...}}` (Buildbot keeps it terse).
pub fn event(event: &Event) -> String {
    json!({ "k": event.topic.to_path(), "m": event.payload }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrobot_bus::Topic;

    fn error(text: &str) -> (u16, String, Value) {
        match parse(text) {
            Err(reply) => (reply.code, reply.message, reply.id),
            Ok(request) => panic!("{text} parsed as {request:?}"),
        }
    }

    #[test]
    fn commands_parse_with_their_id_and_path() {
        let request = parse(r#"{"cmd":"startConsuming","path":"builds/*/*","_id":1}"#);
        assert_eq!(
            request,
            Ok(Request {
                id: json!(1),
                command: Command::StartConsuming("builds/*/*".into())
            })
        );
        let request = parse(r#"{"cmd":"ping","_id":"a"}"#);
        assert_eq!(
            request,
            Ok(Request {
                id: json!("a"),
                command: Command::Ping
            })
        );
        let request = parse(r#"{"cmd":"stopConsuming","path":"logs/3/append","_id":9}"#);
        assert_eq!(
            request.map(|r| r.command),
            Ok(Command::StopConsuming("logs/3/append".into()))
        );
    }

    #[test]
    fn bad_frames_get_buildbots_codes() {
        assert_eq!(
            error(r#"{"cmd":"ping"}"#),
            (400, "no '_id' in websocket frame".into(), Value::Null)
        );
        assert_eq!(
            error(r#"{"_id":1}"#),
            (400, "no 'cmd' in websocket frame".into(), Value::Null)
        );
        assert_eq!(
            error(r#"{"cmd":"poing","_id":1}"#),
            (404, "no such command type 'poing'".into(), json!(1))
        );
        let (code, message, id) = error(r#"{"cmd":"ping","_id":2,"foo":"bar"}"#);
        assert_eq!((code, id), (400, json!(2)));
        assert!(message.contains("Invalid method argument"), "{message}");
        assert!(message.contains("'foo'"), "{message}");
        let (code, message, _) = error(r#"{"cmd":"startConsuming","_id":3}"#);
        assert_eq!(code, 400);
        assert!(message.contains("'path'"), "{message}");
        assert_eq!(
            error(r#"{"cmd":"startConsuming","path":5,"_id":4}"#),
            (400, "invalid path format '5'".into(), json!(4))
        );
        assert_eq!(error("not json").0, 400);
        assert_eq!(error("[1]").0, 400);
        assert_eq!(
            error(r#"{"cmd":"startConsuming","path":"a/>","_id":5}"#).0,
            400
        );
    }

    #[test]
    fn a_path_matches_topics_of_its_own_length_only() {
        let builds = pattern("builds/*/*").expect("valid path");
        assert!(builds.matches(&Topic::new(["builds", "12", "update"])));
        assert!(!builds.matches(&Topic::new(["builds", "12", "properties", "update"])));
        assert!(!builds.matches(&Topic::new(["builders", "1", "builds", "2", "new"])));
        let one = pattern("builds/12/*").expect("valid path");
        assert!(one.matches(&Topic::new(["builds", "12", "finished"])));
        assert!(!one.matches(&Topic::new(["builds", "13", "finished"])));
    }

    #[test]
    fn replies_and_events_have_buildbots_shape() {
        let reply: Value = serde_json::from_str(&ack(&json!(1))).expect("json");
        assert_eq!(reply, json!({"msg": "OK", "code": 200, "_id": 1}));
        let reply: Value = serde_json::from_str(&pong(&json!(2))).expect("json");
        assert_eq!(reply, json!({"msg": "pong", "code": 200, "_id": 2}));
        let reply: Value =
            serde_json::from_str(&not_consumed("a/b", &json!(3)).to_text()).expect("json");
        assert_eq!(
            reply,
            json!({"error": "path was not consumed 'a/b'", "code": 400, "_id": 3})
        );
        let frame = event(&Event {
            topic: Topic::new(["builds", "12", "update"]),
            payload: json!({"buildid": 12}),
        });
        let frame: Value = serde_json::from_str(&frame).expect("json");
        assert_eq!(
            frame,
            json!({"k": "builds/12/update", "m": {"buildid": 12}})
        );
    }
}
