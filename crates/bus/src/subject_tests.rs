use std::collections::HashMap;

use super::*;

const PREFIX: &str = "ferrobot";

const TRICKY: &[&str] = &[
    "",
    ".",
    "..",
    "a.b",
    "test.log",
    "*",
    ">",
    "a*",
    ">a",
    " ",
    "a b",
    "\t",
    "\n",
    "%",
    "%%",
    "%2E",
    "%2e",
    "%zz",
    "ü",
    "日本",
    "rocket 🚀",
    "$SYS",
    "$JS",
    "-",
    "_",
    "A",
    "0",
    "\0",
    "~",
    "/",
    "builds",
    "12",
];

/// NATS subject matching, as the server does it, to check the encodings against.
fn nats_matches(filter: &str, subject: &str) -> bool {
    let filter: Vec<&str> = filter.split('.').collect();
    let subject: Vec<&str> = subject.split('.').collect();
    for (index, token) in filter.iter().enumerate() {
        if *token == ">" && index == filter.len() - 1 {
            return subject.len() > index;
        }
        match subject.get(index) {
            Some(actual) if *token == "*" || token == actual => {}
            _ => return false,
        }
    }
    filter.len() == subject.len()
}

fn assert_safe_tokens(subject: &str, segments: usize) {
    let tokens: Vec<&str> = subject.split('.').collect();
    assert_eq!(tokens.len(), segments + 1, "{subject:?}");
    for token in &tokens[1..] {
        assert!(!token.is_empty(), "empty token in {subject:?}");
        assert!(
            *token != "*" && *token != ">",
            "wildcard token in {subject:?}"
        );
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'%'),
            "unsafe character in {subject:?}"
        );
    }
}

/// A deterministic stream of segments drawn from characters that need care.
struct Segments(u64);

impl Iterator for Segments {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        const ALPHABET: &[char] = &[
            'a', 'Z', '0', '9', '-', '_', '.', '*', '>', ' ', '%', '$', 'ü', '日', '🚀', '\u{0}',
            '/', '+', 'E', '2',
        ];
        let mut segment = String::new();
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let length = (self.0 % 6) as usize;
        for round in 0..length {
            let pick = (self.0 >> (round * 5 + 8)) as usize % ALPHABET.len();
            segment.push(ALPHABET[pick]);
        }
        Some(segment)
    }
}

#[test]
fn ordinary_keys_read_naturally() {
    let topic = Topic::new(["builds", "12", "finished"]);
    assert_eq!(
        encode_subject(PREFIX, &topic),
        "ferrobot.builds.12.finished"
    );
    assert_eq!(
        encode_subject(
            PREFIX,
            &Topic::new(["steps", "3", "logs", "test.log", "append"])
        ),
        "ferrobot.steps.3.logs.test%2Elog.append"
    );
    assert_eq!(encode_subject("", &topic), "builds.12.finished");
    assert_eq!(
        encode_subject("ci.run-7", &topic),
        "ci.run-7.builds.12.finished"
    );
}

#[test]
fn patterns_keep_wildcards_and_escape_the_rest() {
    let encode = |segments: &[&str]| encode_pattern(PREFIX, &Pattern::new(segments.to_vec()));
    assert_eq!(
        encode(&["builds", "*", "finished"]),
        "ferrobot.builds.*.finished"
    );
    assert_eq!(encode(&["builds", ">"]), "ferrobot.builds.>");
    assert_eq!(encode(&[">", "x"]), "ferrobot.%3E.x");
    assert_eq!(encode(&["a.b", "*"]), "ferrobot.a%2Eb.*");
    assert_eq!(encode_pattern("", &Pattern::new([">"])), ">");
}

#[test]
fn every_tricky_segment_round_trips_alone_and_in_company() {
    for first in TRICKY {
        for second in TRICKY {
            let topic = Topic::new([*first, *second, "end"]);
            for prefix in [PREFIX, "", "a.b"] {
                let subject = encode_subject(prefix, &topic);
                assert_eq!(
                    decode_subject(prefix, &subject),
                    Some(topic.clone()),
                    "{subject:?}"
                );
            }
            assert_safe_tokens(&encode_subject(PREFIX, &topic), 3);
        }
    }
}

#[test]
fn random_topics_round_trip_and_never_collide() {
    let mut segments = Segments(0x9E37_79B9_7F4A_7C15);
    let mut seen: HashMap<String, Topic> = HashMap::new();
    for round in 0..5000 {
        let length = 1 + round % 4;
        let topic = Topic((&mut segments).take(length).collect());
        let subject = encode_subject(PREFIX, &topic);
        assert_safe_tokens(&subject, length);
        assert_eq!(
            decode_subject(PREFIX, &subject),
            Some(topic.clone()),
            "{subject:?}"
        );
        if let Some(earlier) = seen.insert(subject.clone(), topic.clone()) {
            assert_eq!(earlier, topic, "two topics share {subject:?}");
        }
    }
}

#[test]
fn nats_matching_of_encodings_agrees_with_pattern_matching() {
    let mut segments = Segments(0x2545_F491_4F6C_DD1D);
    let topics: Vec<Topic> = (0..300)
        .map(|round| Topic((&mut segments).take(1 + round % 3).collect()))
        .chain(TRICKY.iter().map(|segment| Topic::new([*segment])))
        .collect();
    let mut patterns: Vec<Pattern> = vec![
        Pattern::new(["*"]),
        Pattern::new([">"]),
        Pattern::new(["*", ">"]),
        Pattern::new(["*", "*"]),
        Pattern::new([">", ">"]),
    ];
    for topic in topics.iter().take(100) {
        let mut with_star = topic.0.clone();
        with_star[0] = "*".into();
        let mut with_tail = topic.0.clone();
        with_tail.truncate(1);
        with_tail.push(">".into());
        patterns.extend([
            Pattern(topic.0.clone()),
            Pattern(with_star),
            Pattern(with_tail),
        ]);
    }
    let mut matched = 0;
    for pattern in &patterns {
        let filter = encode_pattern(PREFIX, pattern);
        for topic in &topics {
            let expected = pattern.matches(topic);
            matched += usize::from(expected);
            assert_eq!(
                nats_matches(&filter, &encode_subject(PREFIX, topic)),
                expected,
                "pattern {pattern:?} ({filter}) against topic {topic:?}"
            );
        }
    }
    assert!(
        matched > 300,
        "the sample should contain matches, found {matched}"
    );
}

#[test]
fn non_canonical_or_foreign_subjects_are_refused() {
    for subject in [
        "ferrobot",
        "ferrobot.",
        "ferrobot..a",
        "ferrobot.a.",
        "ferrobotx.builds",
        "other.builds.1",
        "ferrobot.*",
        "ferrobot.>",
        "ferrobot.a b",
        "ferrobot.ü",
        "ferrobot.%2e",
        "ferrobot.%41",
        "ferrobot.%4",
        "ferrobot.%%",
        "ferrobot.%C3",
        "ferrobot.%ZZ",
    ] {
        assert_eq!(decode_subject(PREFIX, subject), None, "{subject:?}");
    }
    assert_eq!(decode_subject("", ""), None);
    assert_eq!(
        decode_subject(PREFIX, "ferrobot.%.%25.%C3%BC"),
        Some(Topic::new(["", "%", "ü"]))
    );
}
