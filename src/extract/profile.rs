//! The user's profile: memories ChatGPT saved about them and their custom
//! instructions. These are the most trusted sources, written as notes rather than
//! conversation ("User is a retired pharmacist living in Kyoto.", "Civil engineer in
//! Durban. Mom of one."), so they are first turned into first-person sentences the
//! rules understand; a note no rule understands is kept whole, since someone already
//! judged it worth remembering.

use super::lexicon;
use super::phrases;
use super::rules::{self, Context, Finding};
use super::text::{self, Sentence};
use super::{Category, secrets};
use chrono::NaiveDate;

/// One sentence of a saved memory and the date written inside it, if any
/// ("3. [2024-05-02]. User is vegetarian.").
pub fn memory_sentences(memory: &str) -> Vec<(Option<NaiveDate>, String)> {
    let mut out = Vec::new();
    for line in memory.lines() {
        let (date, rest) = strip_numbering(line.trim());
        for sentence in text::sentences(rest) {
            for part in sentence.split(';') {
                let part = part.trim();
                if !part.is_empty() {
                    out.push((date, part.to_owned()));
                }
            }
        }
    }
    out
}

/// "12. [2024-05-02]. text" → (2024-05-02, "text").
fn strip_numbering(line: &str) -> (Option<NaiveDate>, &str) {
    let mut rest = line;
    if let Some((n, after)) = rest.split_once(". ")
        && !n.is_empty()
        && n.len() <= 3
        && n.chars().all(|c| c.is_ascii_digit())
    {
        rest = after.trim_start();
    }
    let mut date = None;
    if let Some(after_bracket) = rest.strip_prefix('[')
        && let Some((inside, after)) = after_bracket.split_once(']')
    {
        date = NaiveDate::parse_from_str(inside.trim(), "%Y-%m-%d").ok();
        if date.is_some() {
            rest = after.trim_start_matches(['.', ':', ' ']);
        }
    }
    (date, rest)
}

/// A saved memory's sentence as the user would say it: "User's son Ali…" → "My son
/// Ali…", "User is…" → "I am…", "Works as…" → "I work as…".
pub fn first_person(note: &str) -> String {
    let trimmed = note.trim();
    let replaced = [
        ("The user's ", "My "),
        ("the user's ", "my "),
        ("User's ", "My "),
        ("user's ", "my "),
        ("The user ", "I "),
        ("User ", "I "),
        // In a saved memory, "they" is the user (with whoever was just named).
        ("They ", "We "),
        ("they ", "we "),
    ]
    .iter()
    .fold(trimmed.to_owned(), |acc, (from, to)| {
        if let Some(rest) = acc.strip_prefix(from) {
            format!("{to}{rest}")
        } else {
            acc.replace(
                &format!(" {}", from.trim_start()),
                &format!(" {}", to.trim_start()),
            )
        }
    });
    let replaced = replaced
        .replace(" and is ", " and am ")
        .replace(" and has ", " and have ");
    let (first, rest) = match replaced.split_once(' ') {
        Some((f, r)) => (f.to_owned(), r.to_owned()),
        None => (replaced.clone(), String::new()),
    };
    if first == "I" {
        // "I is", "I works" → "I am", "I work".
        return match rest.split_once(' ') {
            Some((verb, more)) => format!("I {} {more}", base_form(verb).unwrap_or(verb)),
            None => format!("I {}", base_form(&rest).unwrap_or(&rest)),
        };
    }
    match base_form(&first.to_lowercase()) {
        Some(verb) => format!("I {verb} {rest}"),
        None => replaced,
    }
}

/// The first-person form of a third-person verb that starts a note.
fn base_form(verb: &str) -> Option<&'static str> {
    const VERBS: &[(&str, &str)] = &[
        ("is", "am"),
        ("has", "have"),
        ("was", "was"),
        ("works", "work"),
        ("lives", "live"),
        ("owns", "own"),
        ("runs", "run"),
        ("plays", "play"),
        ("speaks", "speak"),
        ("prefers", "prefer"),
        ("enjoys", "enjoy"),
        ("likes", "like"),
        ("loves", "love"),
        ("teaches", "teach"),
        ("studies", "study"),
        ("wants", "want"),
        ("uses", "use"),
        ("writes", "write"),
        ("volunteers", "volunteer"),
        ("practices", "practice"),
        ("practises", "practise"),
        ("attends", "attend"),
        ("manages", "manage"),
        ("sings", "sing"),
        ("dances", "dance"),
        ("paints", "paint"),
        ("knits", "knit"),
        ("hikes", "hike"),
        ("climbs", "climb"),
        ("swims", "swim"),
        ("surfs", "surf"),
        ("sails", "sail"),
        ("cycles", "cycle"),
        ("bakes", "bake"),
        ("follows", "follow"),
        ("supports", "support"),
        ("goes", "go"),
        ("does", "do"),
        ("takes", "take"),
        ("moved", "moved"),
        ("grew", "grew"),
        ("plans", "plan"),
        ("hopes", "hope"),
        ("dislikes", "dislike"),
        ("hates", "hate"),
        ("needs", "need"),
        ("keeps", "keep"),
        ("makes", "make"),
        ("builds", "build"),
        ("coaches", "coach"),
        ("trains", "train"),
        ("recently", "recently"),
        ("married", "am married"),
        ("retired", "am retired"),
        ("learning", "am learning"),
        ("studying", "am studying"),
        ("researching", "am researching"),
        ("writing", "am writing"),
        ("building", "am building"),
        ("working", "am working"),
        ("living", "am living"),
        ("planning", "am planning"),
        ("preparing", "am preparing"),
    ];
    VERBS.iter().find(|(v, _)| *v == verb).map(|(_, b)| *b)
}

/// Facts in one sentence of the profile; a sentence no rule understands is kept as
/// a note (from saved memories) or a response-style preference (an instruction).
pub fn profile_facts(sentence: &str, from_memory: bool, year: Option<i32>) -> Vec<Finding> {
    let clean = secrets::redact(sentence);
    let first = if from_memory {
        first_person(&clean)
    } else {
        clean.clone()
    };
    let prepared = rules::with_subject(&first, true);
    let ctx = Context {
        trusted: true,
        year,
        ..Context::default()
    };
    let mut found = rules::find_facts(&Sentence::parse(&prepared), ctx);
    if found.is_empty() || !covers_names(&found, &clean) {
        found.extend(note(&clean, from_memory));
    }
    found
}

/// Whether the facts found mention every name and place the sentence does; when not,
/// the sentence holds more than the rules understood and is kept whole as well.
fn covers_names(found: &[Finding], sentence: &str) -> bool {
    let values = found
        .iter()
        .map(|f| f.value.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    sentence
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .skip(1)
        .filter(|w| w.chars().next().is_some_and(char::is_uppercase) && w.chars().count() >= 3)
        .filter(|w| !matches!(*w, "User" | "The"))
        .all(|w| values.contains(&w.to_lowercase()))
}

/// A whole profile sentence kept as one fact.
fn note(sentence: &str, from_memory: bool) -> Option<Finding> {
    let text = sentence.trim().trim_end_matches('.').trim();
    let words = text.split_whitespace().count();
    if words < 2 || secrets::contains_secret(text) {
        return None;
    }
    let lower = text.to_lowercase();
    let first = lower.split_whitespace().next().unwrap_or("");
    let instruction = matches!(
        first,
        "use"
            | "be"
            | "keep"
            | "always"
            | "never"
            | "don't"
            | "do"
            | "please"
            | "answer"
            | "respond"
            | "reply"
            | "write"
            | "avoid"
            | "give"
            | "skip"
            | "explain"
            | "show"
            | "assume"
            | "default"
            | "include"
            | "call"
    );
    if instruction && !from_memory {
        return Some(Finding {
            category: Category::Preferences,
            slot: None,
            value: format!("Response style: {text}"),
            ended: false,
        });
    }
    let value = if from_memory {
        strip_user(text)
    } else {
        about_them(text)
    };
    Some(Finding {
        category: guess_category(&lower),
        slot: None,
        value: phrases::capitalise(&value),
        ended: false,
    })
}

/// "I live with my partner" → "Lives with their partner"; "I am…" / "I have…" likewise.
fn about_them(text: &str) -> String {
    let Some(rest) = text.strip_prefix("I ") else {
        return phrases::third_person(text);
    };
    let (verb, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let verb = match verb {
        "am" | "'m" => return phrases::third_person(tail),
        "have" => "has".to_owned(),
        "do" => "does".to_owned(),
        "go" => "goes".to_owned(),
        v if v.ends_with("ch") || v.ends_with("sh") || v.ends_with('s') || v.ends_with('x') => {
            format!("{v}es")
        }
        v if v.ends_with('y') && !v.ends_with("ay") && !v.ends_with("ey") && !v.ends_with("oy") => {
            format!("{}ies", &v[..v.len() - 1])
        }
        v => format!("{v}s"),
    };
    phrases::third_person(&format!("{verb} {tail}"))
}

fn strip_user(text: &str) -> String {
    for lead in ["The user is ", "User is ", "The user ", "User "] {
        if let Some(rest) = text.strip_prefix(lead) {
            return rest.to_owned();
        }
    }
    text.replace("User's ", "Their ")
        .replace("user's ", "their ")
}

/// Which MEMORY section a free-text note belongs in, by the words it uses.
pub fn guess_category(lower: &str) -> Category {
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(w));
    let padded = format!(" {} ", words.join(" "));
    let conditions = lexicon::CONDITIONS
        .iter()
        .any(|(c, _)| padded.contains(&format!(" {c} ")))
        || lexicon::DIETS.iter().any(|(d, _)| words.contains(d));
    if conditions || has(&["allergic", "allergy", "medication", "diagnosed", "diet"]) {
        return Category::Health;
    }
    if has(&[
        "writing",
        "building",
        "project",
        "researching",
        "cookbook",
        "book",
        "app",
        "developing",
        "podcast",
    ]) {
        return Category::Projects;
    }
    if words.iter().any(|w| {
        lexicon::RELATIONS.iter().any(|(r, _, _)| r == w)
            || lexicon::RELATION_PLURALS.iter().any(|(r, _)| r == w)
    }) || has(&[
        "married",
        "kids",
        "children",
        "grandchildren",
        "family",
        "genealogy",
        "ancestors",
    ]) {
        return Category::Family;
    }
    if words
        .iter()
        .any(|w| lexicon::PETS.iter().any(|(p, _)| p == w))
    {
        return Category::Pets;
    }
    if words.iter().any(|w| lexicon::is_role(w))
        || has(&[
            "works",
            "job",
            "company",
            "business",
            "owns",
            "restaurant",
            "career",
            "employer",
            "degree",
            "university",
            "studies",
            "clinic",
            "shop",
        ])
    {
        return Category::Work;
    }
    if has(&[
        "wants", "plans", "goal", "hopes", "dream", "aims", "planning",
    ]) {
        return Category::Goals;
    }
    if words.iter().any(|w| lexicon::language_at(&[w]).is_some())
        && has(&["speaks", "learning", "studying", "language"])
    {
        return Category::Languages;
    }
    let hobby = words.iter().any(|w| lexicon::HOBBIES.contains(w))
        || has(&[
            "enjoys", "loves", "plays", "sails", "fan", "hobby", "smokes", "collects", "boat",
        ]);
    if hobby {
        return Category::Interests;
    }
    if has(&["lives", "living", "moved", "based", "from", "city"]) {
        return Category::Location;
    }
    if has(&["prefers", "likes", "dislikes", "style", "format"]) {
        return Category::Preferences;
    }
    Category::Identity
}

/// Each sentence of the "how would you like ChatGPT to respond" instructions, as a
/// response-style preference.
pub fn style_preferences(about_model: &str) -> Vec<Finding> {
    text::sentences(&secrets::redact(about_model))
        .into_iter()
        .map(|s| s.trim().trim_end_matches('.').to_owned())
        .filter(|s| s.split_whitespace().count() >= 2)
        .map(|s| Finding {
            category: Category::Preferences,
            slot: None,
            value: format!("Response style: {s}"),
            ended: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(sentence: &str, from_memory: bool) -> Vec<String> {
        profile_facts(sentence, from_memory, Some(2024))
            .into_iter()
            .map(|f| f.value)
            .collect()
    }

    #[test]
    fn numbered_memory_lines_with_dates() {
        let s = memory_sentences(
            "1. [2024-05-02]. User is vegetarian.\n2. [2024-06-01]. Has a cat; plays oboe.",
        );
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].0, NaiveDate::from_ymd_opt(2024, 5, 2));
        assert_eq!(s[0].1, "User is vegetarian.");
        assert_eq!(s[2].1, "plays oboe.");
    }

    #[test]
    fn memory_notes_become_first_person() {
        assert_eq!(
            first_person("User is a retired nurse."),
            "I am a retired nurse."
        );
        assert_eq!(
            first_person("User's son Ali lives in Leeds."),
            "My son Ali lives in Leeds."
        );
        assert_eq!(
            first_person("Works as a welder at Dorn Steel."),
            "I work as a welder at Dorn Steel."
        );
        assert_eq!(
            first_person("Has high cholesterol."),
            "I have high cholesterol."
        );
    }

    #[test]
    fn profile_sentences_give_facts() {
        let v = values(
            "User is a retired hospital pharmacist living in Osaka and is studying English.",
            true,
        );
        assert!(
            v.contains(&"Retired hospital pharmacist".to_owned()),
            "{v:?}"
        );
        assert!(v.contains(&"Lives in Osaka".to_owned()), "{v:?}");
        assert!(v.contains(&"Learning English".to_owned()), "{v:?}");
        let v = values("User's son Ali lives in Leeds with his wife Mina.", true);
        assert!(v.contains(&"Son: Ali".to_owned()), "{v:?}");
        // The son's home and wife are not the user's: only the whole note keeps them.
        assert!(
            !v.iter()
                .any(|x| x == "Lives in Leeds" || x.contains("Wife")),
            "{v:?}"
        );
        let v = values("Civil engineer (roads) in Durban.", false);
        assert!(v.contains(&"Civil engineer (roads)".to_owned()), "{v:?}");
        assert!(v.contains(&"Lives in Durban".to_owned()), "{v:?}");
    }

    #[test]
    fn unparsed_notes_are_kept_whole() {
        assert_eq!(
            values("Restores a 1962 Vespa called Lupo.", true),
            vec!["Restores a 1962 Vespa called Lupo"]
        );
        assert_eq!(
            values("Use British spelling.", false),
            vec!["Response style: Use British spelling"]
        );
        assert_eq!(
            values("I restore old motorbikes with my uncle.", false),
            vec!["Restores old motorbikes with their uncle"]
        );
        assert_eq!(
            guess_category("smokes brisket most weekends"),
            Category::Interests
        );
        assert_eq!(
            guess_category("is writing a cookbook of family recipes"),
            Category::Projects
        );
    }

    #[test]
    fn style_sentences() {
        let v: Vec<String> = style_preferences("Be brief. Use metric units.")
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(
            v,
            vec![
                "Response style: Be brief",
                "Response style: Use metric units"
            ]
        );
    }
}
