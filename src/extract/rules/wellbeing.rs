//! Health (long-lasting conditions, allergies, medication), diet (a single-valued
//! slot) and languages. Health facts are only taken from the user speaking about
//! themselves, and passing illnesses ("I have the flu", "migraine today") are not
//! health facts.

use super::{Category, Scan};
use crate::extract::guards::Polarity;
use crate::extract::lexicon::{self, CONDITION_ADJECTIVES, CONDITIONS, DIETS};
use crate::extract::phrases::is_punct;

patterns! {
    HAVE = r"\bi (?:just |recently |also |finally |officially )?(?:have had|have been diagnosed with|have|get|often get|regularly get|was diagnosed with|was just diagnosed with|was recently diagnosed with|got diagnosed with|suffer from|live with|am living with|deal with|struggle with|am on medication for|take medication for|am being treated for)\b(?: (?:a|an|mild|severe|chronic|bad|diagnosed|some|really|quite)\b)*";
    BEING = r"\b(?:i am|being|as an?|i was born|i have always been|i have been|i became) (?:a |an |also |very |mildly |severely |pretty )?";
    ALLERGIC = r"\bi am (?:very |severely |mildly |deathly |also )?allergic to\b";
    ALLERGY = r"\b(?:i have an?|my) (\S+(?: \S+)?) allergy\b";
    BODY_HIGH = r"\bmy (blood pressure|cholesterol|blood sugar) is (?:too |a bit |very |quite |way |really |borderline |slightly |a little |getting |a touch )?(high|low)\b";
    TAKE = r"\b(?:i|and) (?:take|am on|have to take) (\S+)";
    WEAR = r"\b(?:i|and) (wear|use|need) (hearing aids?|a hearing aid|a cpap|a wheelchair|a cane|a prosthetic|an insulin pump|a pacemaker)\b";
    DIET = r"\b(?:i am|i have been|i went|i became|i turned|i have gone|i am now|we are|we are a|i am a|we are all|being|as an?|i was|i used to be|i stayed|i have stayed|but still|and still|but now|and now|but i am|and i am)\b((?: (?:fully|strictly|mostly|now|completely|pretty much|still|a|an|also|basically|recently|finally|not|no longer|never)\b)*) (\S+)";
    DO_NOT_EAT = r"\bi (?:do not|never|can not|cannot|no longer|stopped eating|gave up) (?:eat |eating |drink |drinking )?(meat|pork|beef|fish|seafood|dairy|gluten|eggs|shellfish|red meat|alcohol|sugar|caffeine)\b";
    KEEP = r"\bi (?:keep|eat only|only eat|eat) (kosher|halal)\b";
    SPEAK = r"\bi (?:speak|can speak|also speak|speak fluent|am fluent in|am conversational in|am bilingual in|am trilingual in|grew up speaking|understand|speak a bit of|speak some)\b";
    NATIVE_IS = r"\b(?:my )?(first|native|home|mother|main|primary) (?:language|tongue) is\b";
    IS_MY_LANGUAGE = r"\b(\S+(?: \S+)?) is my (first|native|home|mother|main|primary|second|third|fourth) (?:language|tongue)\b";
    SPEAKER = r"\bi am (?:a )?((?:fluent|native|bilingual|conversational|heritage|beginner|intermediate) )?(\S+(?: \S+)?) speaker\b";
    LEARNING = r"\b(?:i|and) (?:am learning|am studying|study|have been learning|have been studying|started learning|am taking|take|am doing|have started|am practising|am practicing|am improving|am brushing up on|am brushing up|learn|am trying to learn|am relearning|have been taking)\b(?: (?:some|more|my|basic|beginner|intermediate|conversational|business)\b)?";
    MY_LANGUAGE_IS = r"\bmy (\S+(?: \S+)?) is (?:getting |still |pretty |so+ |very |quite |a bit |really |super )?(rusty|basic|ok|okay|good|decent|fluent|bad|terrible|limited|weak|broken|poor|native|improving|shaky|not great|not perfect|intermediate)\b";
    SIGN_LANGUAGE = r"\b(?:i|and) (?:use|sign|know|speak|am fluent in) (bsl|asl|auslan|lsf|dgs|lsq|nzsl|isl|sign language)\b";
    MY_CONDITION = r"\bmy (?:mild |severe |chronic |diagnosed )?";
}

pub fn find(scan: &mut Scan) {
    conditions(scan);
    diets(scan);
    languages(scan);
}

/// The longest lexicon phrase starting at token `i`, joined the way the lexicon writes it.
fn lookup(
    scan: &Scan,
    i: usize,
    table: &[(&'static str, &'static str)],
) -> Option<(&'static str, usize)> {
    let mut best: Option<(&'static str, usize)> = None;
    let mut joined = String::new();
    for n in 1..=4 {
        let k = i + n - 1;
        let w = scan.s.lower(k);
        if w.is_empty() {
            break;
        }
        if w == "'s" {
            joined.push_str("'s");
        } else {
            if n > 1 {
                joined.push(' ');
            }
            joined.push_str(w);
        }
        if let Some((_, label)) = table.iter().find(|(p, _)| *p == joined) {
            best = Some((label, n));
        }
    }
    best
}

fn conditions(scan: &mut Scan) {
    if scan.transient {
        return;
    }
    for hit in scan.hits(&HAVE) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) != Polarity::Affirmed {
            continue;
        }
        let Some((label, n)) = lookup(scan, hit.end, &CONDITIONS) else {
            continue;
        };
        let mild = scan.s.span_text(hit.start, hit.end).contains("mild");
        let value = if mild && !label.starts_with("Wears") && !label.starts_with("Has") {
            format!("{label} (mild)")
        } else {
            label.to_owned()
        };
        scan.add(Category::Health, None, value, false);
        // "I have ADHD and dyslexia", "asthma, eczema and hay fever".
        let mut k = hit.end + n;
        while matches!(scan.s.lower(k), "and" | "," | "&" | "plus") {
            k += 1;
            if scan.s.lower(k) == "and" {
                k += 1;
            }
            let Some((more, m)) = lookup(scan, k, &CONDITIONS) else {
                break;
            };
            scan.add(Category::Health, None, more, false);
            k += m;
        }
    }
    // "for my type 2 diabetes", "my asthma flares up": only the user's own condition
    // is theirs to call "my".
    for hit in scan.hits(&MY_CONDITION) {
        if scan.handed_over(hit.start) || scan.ctx.roleplay {
            continue;
        }
        if let Some((label, _)) = lookup(scan, hit.end, &CONDITIONS)
            && !label.starts_with("Wears")
            && !label.starts_with("Has")
        {
            scan.add(Category::Health, None, label, false);
        }
    }
    for hit in scan.hits(&BEING) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let Some((label, n)) = lookup(scan, hit.end, &CONDITION_ADJECTIVES) else {
            continue;
        };
        let next = scan.s.lower(hit.end + n);
        let ends = next.is_empty()
            || is_punct(next)
            || matches!(
                next,
                "and"
                    | "so"
                    | "but"
                    | "too"
                    | "myself"
                    | "since"
                    | "from"
                    | "i"
                    | "btw"
                    | "lol"
                    | "now"
                    | "which"
                    | "("
            );
        if !ends || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        scan.add(Category::Health, None, label, false);
    }
    for hit in scan.hits(&ALLERGIC) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let mut end = hit.end;
        while end < scan.s.len()
            && end - hit.end < 4
            && scan.s.is_word(end)
            && !matches!(scan.s.lower(end), "and" | "so" | "but" | "which" | "since")
        {
            end += 1;
        }
        if end > hit.end {
            scan.add(
                Category::Health,
                None,
                format!("Allergic to {}", scan.s.span_text(hit.end, end)),
                false,
            );
        }
    }
    for hit in scan.hits(&ALLERGY) {
        let Some(g) = hit.group(1) else { continue };
        let owned_by_user =
            scan.s.lower(hit.start) == "i" || super::places::subject_is_user(scan, hit.start);
        if owned_by_user && scan.about_user(hit.start) {
            let what = scan.s.span_text(g.start, g.end);
            if !matches!(what.as_str(), "food" | "an" | "a" | "bad" | "severe") {
                scan.add(Category::Health, None, format!("Allergic to {what}"), false);
            }
        }
    }
    for hit in scan.hits(&BODY_HIGH) {
        let (Some(what), Some(level)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if scan.about_user(hit.start) {
            let value = format!(
                "{} {}",
                scan.s.lower(level.start),
                scan.s.span_text(what.start, what.end)
            );
            scan.add(Category::Health, None, value, false);
        }
    }
    for hit in scan.hits(&TAKE) {
        let Some(g) = hit.group(1) else { continue };
        let drug = scan.s.lower(g.start);
        let regular = (g.end..g.end + 4).any(|k| {
            matches!(
                scan.s.lower(k),
                "every" | "daily" | "each" | "twice" | "for"
            )
        });
        if scan.about_user(hit.start) && regular && looks_like_medication(drug) {
            scan.add(
                Category::Health,
                None,
                format!("Takes {}", scan.s.text(g.start)),
                false,
            );
        }
    }
    for hit in scan.hits(&WEAR) {
        let (Some(verb), Some(g)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        let verb = if scan.s.lower(verb.start) == "wear" {
            "Wears"
        } else {
            "Uses"
        };
        if scan.about_user(hit.start) && scan.polarity(hit.start) == Polarity::Affirmed {
            let what = scan.s.span_text(g.start, g.end);
            let what = if what.starts_with("hearing aid") {
                "hearing aids".to_owned()
            } else {
                what
            };
            scan.add(Category::Health, None, format!("{verb} {what}"), false);
        }
    }
}

fn looks_like_medication(word: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "ine", "ol", "in", "ide", "pril", "sartan", "statin", "mab", "pam", "lam", "zole",
        "cycline", "mycin", "xine", "one", "ate", "ium", "afil", "oxin", "amine",
    ];
    const KNOWN: &[&str] = &[
        "insulin",
        "metformin",
        "levothyroxine",
        "thyroxine",
        "lithium",
        "ritalin",
        "adderall",
        "warfarin",
        "aspirin",
        "prednisone",
        "methotrexate",
        "eltroxin",
        "euthyrox",
    ];
    const NOT: &[&str] = &[
        "vitamin",
        "protein",
        "coffee",
        "medicine",
        "medication",
        "line",
        "online",
        "time",
        "one",
        "none",
        "the",
        "some",
        "insulin?",
        "caffeine",
        "nicotine",
        "routine",
        "magazine",
        "cuisine",
        "discipline",
    ];
    if NOT.contains(&word) || word.len() < 5 {
        return false;
    }
    KNOWN.contains(&word) || SUFFIXES.iter().any(|s| word.ends_with(s))
}

fn diets(scan: &mut Scan) {
    for hit in scan.hits(&DIET) {
        let Some(word) = hit.group(2) else { continue };
        let Some((_, label)) = DIETS.iter().find(|(d, _)| *d == scan.s.lower(word.start)) else {
            continue;
        };
        let lead = scan.s.span_text(hit.start, hit.start + 2);
        // "most of us are vegetarian" is about the group, not the user.
        if hit.start >= 2 && scan.s.lower(hit.start - 1) == "of" {
            continue;
        }
        let next = scan.s.lower(word.end);
        let ends = next.is_empty()
            || is_punct(next)
            || matches!(
                next,
                "and"
                    | "so"
                    | "but"
                    | "too"
                    | "now"
                    | "for"
                    | "since"
                    | "household"
                    | "family"
                    | "home"
                    | "myself"
                    | "btw"
                    | "lol"
                    | "("
                    | "again"
                    | "anymore"
                    | "these"
                    | "last"
                    | "this"
                    | "a"
            );
        if !ends || !scan.about_user(hit.start) {
            continue;
        }
        let was = lead.starts_with("I was") || lead.starts_with("I used");
        let ended = match scan.polarity(hit.start) {
            Polarity::Negated => continue,
            Polarity::Ended => true,
            Polarity::Affirmed => was,
        };
        scan.add(Category::Health, Some("diet"), *label, ended);
    }
    // "(was vegetarian for years)": a past diet with the subject left out.
    for i in 0..scan.s.len() {
        if scan.s.lower(i) == "was"
            && (i == 0 || matches!(scan.s.lower(i - 1), "(" | "," | "-"))
            && let Some((_, label)) = DIETS.iter().find(|(d, _)| *d == scan.s.lower(i + 1))
            && scan.about_user(i)
        {
            scan.add(Category::Health, Some("diet"), *label, true);
        }
    }
    for hit in scan.hits(&DO_NOT_EAT) {
        let Some(g) = hit.group(1) else { continue };
        if scan.about_user(hit.start) && !scan.transient {
            let what = scan.s.span_text(g.start, g.end);
            let verb = if matches!(what.as_str(), "alcohol" | "caffeine") {
                "drink"
            } else {
                "eat"
            };
            scan.add(
                Category::Health,
                None,
                format!("Doesn't {verb} {what}"),
                false,
            );
        }
    }
    for hit in scan.hits(&KEEP) {
        if let Some(g) = hit.group(1)
            && scan.about_user(hit.start)
        {
            scan.add(
                Category::Health,
                None,
                format!("Eats {}", scan.s.lower(g.start)),
                false,
            );
        }
    }
}

/// Languages named in tokens `from..to`, resolving "both"/"all" to languages named
/// earlier in the sentence ("I'll present in Swahili and Kikuyu (I speak both)").
fn languages_in(scan: &Scan, from: usize, to: usize) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut k = from;
    while k < to.min(scan.s.len()) {
        let words: Vec<&str> = (k..k + 2).map(|j| scan.s.lower(j)).collect();
        if let Some((name, n)) = lexicon::language_at(&words) {
            found.push(name);
            k += n;
            continue;
        }
        if matches!(words.first(), Some(&"both") | Some(&"all")) && found.is_empty() {
            let mut j = 0;
            while j < from {
                let w: Vec<&str> = (j..j + 2).map(|x| scan.s.lower(x)).collect();
                if let Some((name, n)) = lexicon::language_at(&w) {
                    found.push(name);
                    j += n;
                } else {
                    j += 1;
                }
            }
        }
        k += 1;
    }
    found.dedup();
    found
}

/// Where the list of languages after "I speak" ends.
fn clause_end(scan: &Scan, from: usize) -> usize {
    let ends_at = |k: usize| {
        let w = scan.s.lower(k);
        (w == "," && matches!(scan.s.lower(k + 1), "and" | "but" | "i"))
            || matches!(
                w,
                "learning"
                    | "studying"
                    | "learn"
                    | "."
                    | ";"
                    | "but"
                    | "?"
                    | "!"
                    | "because"
                    | "so"
                    | "with"
            )
    };
    let mut k = from;
    while k < scan.s.len() && k - from < 12 && !ends_at(k) {
        k += 1;
    }
    k
}

fn level_near(scan: &Scan, from: usize) -> Option<String> {
    (from..from + 8).find_map(|k| {
        let w = scan.s.lower(k);
        let cefr = w.len() == 2
            && matches!(w.as_bytes().first(), Some(b'a' | b'b' | b'c'))
            && matches!(w.as_bytes().get(1), Some(b'1' | b'2'));
        let jlpt =
            w.len() == 2 && w.starts_with('n') && matches!(w.as_bytes().get(1), Some(b'1'..=b'5'));
        let hsk = w.starts_with("hsk") && w.len() <= 4;
        (cefr || jlpt || hsk).then(|| w.to_uppercase())
    })
}

fn languages(scan: &mut Scan) {
    for hit in scan.hits(&SIGN_LANGUAGE) {
        if let Some(g) = hit.group(1)
            && scan.about_user(hit.start)
        {
            let name = scan.s.text(g.start).to_owned();
            let name = if name.len() <= 5 {
                name.to_uppercase()
            } else {
                "sign language".to_owned()
            };
            scan.add(Category::Languages, None, format!("Uses {name}"), false);
        }
    }
    for hit in scan.hits(&SPEAK) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let end = clause_end(scan, hit.end);
        for name in languages_in(scan, hit.end, end) {
            scan.add(Category::Languages, None, format!("Speaks {name}"), false);
        }
    }
    for hit in scan.hits(&NATIVE_IS) {
        if scan.handed_over(hit.start) {
            continue;
        }
        let owner = hit
            .start
            .checked_sub(1)
            .map(|k| scan.s.lower(k))
            .unwrap_or("");
        if matches!(owner, "her" | "his" | "their" | "'s") {
            continue;
        }
        if let Some(name) = languages_in(scan, hit.end, hit.end + 2).first() {
            scan.add(
                Category::Languages,
                None,
                format!("Native language: {name}"),
                false,
            );
        }
    }
    for hit in scan.hits(&IS_MY_LANGUAGE) {
        let (Some(lang), Some(rank)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if scan.handed_over(hit.start) {
            continue;
        }
        let Some(name) = languages_in(scan, lang.start, lang.end).last().copied() else {
            continue;
        };
        match scan.s.lower(rank.start) {
            "second" | "third" | "fourth" => {
                let rank = scan.s.lower(rank.start).to_owned();
                scan.add(
                    Category::Languages,
                    None,
                    format!("Speaks {name} ({rank} language)"),
                    false,
                );
            }
            _ => scan.add(
                Category::Languages,
                None,
                format!("Native language: {name}"),
                false,
            ),
        }
    }
    for hit in scan.hits(&SPEAKER) {
        let (Some(lang), quality) = (hit.group(2), hit.group(1)) else {
            continue;
        };
        if !scan.about_user(hit.start) {
            continue;
        }
        let Some(name) = languages_in(scan, lang.start, lang.end).first().copied() else {
            continue;
        };
        match quality.map(|q| scan.s.lower(q.start).to_owned()) {
            Some(q) if q == "native" => scan.add(
                Category::Languages,
                None,
                format!("Native language: {name}"),
                false,
            ),
            Some(q) => scan.add(
                Category::Languages,
                None,
                format!("Speaks {name} ({q})"),
                false,
            ),
            None => scan.add(Category::Languages, None, format!("Speaks {name}"), false),
        }
    }
    for hit in scan.hits(&LEARNING) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let words: Vec<&str> = (hit.end..hit.end + 2).map(|k| scan.s.lower(k)).collect();
        let Some((name, n)) = lexicon::language_at(&words) else {
            continue;
        };
        let value = match level_near(scan, hit.end + n) {
            Some(level) => format!("Learning {name} ({level})"),
            None => format!("Learning {name}"),
        };
        scan.add(Category::Languages, None, value, false);
    }
    for hit in scan.hits(&MY_LANGUAGE_IS) {
        let (Some(lang), Some(q)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if scan.handed_over(hit.start) {
            continue;
        }
        let Some(name) = languages_in(scan, lang.start, lang.end).first().copied() else {
            continue;
        };
        let mut end = q.end;
        while end < scan.s.len()
            && end - q.end < 4
            && scan.s.is_word(end)
            && matches!(
                scan.s.lower(end),
                "but" | "not" | "perfect" | "great" | "fluent" | "good"
            )
        {
            end += 1;
        }
        let quality = scan.s.span_text(q.start, end);
        scan.add(
            Category::Languages,
            None,
            format!("Speaks {name} ({quality})"),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{facts, values};

    #[test]
    fn conditions_stated_about_oneself() {
        assert_eq!(
            values("I have ADHD and dyslexia, so keep it short"),
            vec!["ADHD", "Dyslexia"]
        );
        assert_eq!(
            values("I have type 1 diabetes so I count carbs"),
            vec!["Type 1 diabetes"]
        );
        assert_eq!(
            values("I have a mild scoliosis since I was a teen"),
            vec!["Scoliosis (mild)"]
        );
        assert_eq!(
            values("Being lactose intolerant, I skip cheese"),
            vec!["Lactose intolerant"]
        );
        assert_eq!(values("im colour blind (red-green)"), vec!["Colour blind"]);
        assert_eq!(
            values("I'm allergic to penicillin (hives)"),
            vec!["Allergic to penicillin"]
        );
        assert_eq!(
            values("I have Hashimoto's and take levothyroxine every morning"),
            vec!["Hashimoto's", "Takes levothyroxine"]
        );
        assert_eq!(
            values("doc says my blood pressure is too high"),
            vec!["High blood pressure"]
        );
        assert_eq!(
            values("I have hearing aids (Phonak)"),
            vec!["Wears hearing aids"]
        );
    }

    #[test]
    fn passing_illness_and_other_people_are_not_health_facts() {
        assert!(values("I have the flu, 39 since yesterday").is_empty());
        assert!(values("migraine today so keep it short").is_empty());
        assert!(values("I have a migraine today").is_empty());
        assert!(values("got covid rn").is_empty());
        assert!(values("one colleague is allergic to peanuts").is_empty());
        assert!(values("my son has asthma").is_empty());
        assert!(values("Do I have diabetes if my sugar is 6.1?").is_empty());
    }

    #[test]
    fn diets() {
        assert_eq!(
            values("I'm vegetarian and my partner eats everything"),
            vec!["Vegetarian"]
        );
        assert_eq!(values("we're a vegetarian household"), vec!["Vegetarian"]);
        assert!(values("most of us are vegetarian").is_empty());
        assert!(values("I'm making a vegetarian lasagna").is_empty());
        let f = facts("I'm not vegan anymore");
        assert_eq!(f.len(), 1);
        assert!(f[0].ended);
        assert_eq!(f[0].slot, Some("diet"));
        assert!(values("I'm not vegan").is_empty());
        let f = facts("so I'm not vegan anymore (iron was low) but still vegetarian");
        assert_eq!(
            f.iter()
                .map(|f| (f.value.as_str(), f.ended))
                .collect::<Vec<_>>(),
            vec![("Vegan", true), ("Vegetarian", false)]
        );
        let f = facts("I went fully vegan last month (was vegetarian for years)");
        assert_eq!(
            f.iter()
                .map(|f| (f.value.as_str(), f.ended))
                .collect::<Vec<_>>(),
            vec![("Vegan", false), ("Vegetarian", true)]
        );
        assert_eq!(values("I don't eat pork"), vec!["Doesn't eat pork"]);
    }

    #[test]
    fn languages() {
        assert_eq!(
            values("I speak Tamil, Hindi and English"),
            vec!["Speaks Tamil", "Speaks Hindi", "Speaks English"]
        );
        assert_eq!(
            values("I'll present in Shona and Ndau (I speak both)"),
            vec!["Speaks Shona"]
        );
        assert_eq!(
            values("My first language is Swiss German"),
            vec!["Native language: Swiss German"]
        );
        assert_eq!(
            values("Catalan is my first language"),
            vec!["Native language: Catalan"]
        );
        assert_eq!(
            values("English is my third language"),
            vec!["Speaks English (third language)"]
        );
        assert_eq!(
            values("I'm a fluent Welsh speaker"),
            vec!["Speaks Welsh (fluent)"]
        );
        assert_eq!(
            values("I'm learning Korean, TOPIK 2 soon, currently A2"),
            vec!["Learning Korean (A2)"]
        );
        assert_eq!(
            values("I study Japanese for the JLPT N4"),
            vec!["Learning Japanese (N4)"]
        );
        assert_eq!(
            values("my cantonese is sooo rusty"),
            vec!["Speaks Cantonese (rusty)"]
        );
        assert!(values("my friend speaks Dutch").is_empty());
        assert!(values("Translate this into Polish").is_empty());
    }

    #[test]
    fn conditions_reported_or_possessed() {
        assert_eq!(
            values("The doctor says I have high cholesterol."),
            vec!["High cholesterol"]
        );
        assert_eq!(
            values("I take metformin every morning for my type 2 diabetes"),
            vec!["Type 2 diabetes", "Takes metformin"]
        );
        assert_eq!(
            values("I was just diagnosed with celiac disease."),
            vec!["Celiac disease"]
        );
        assert!(values("my son's asthma is worse").is_empty());
    }

    #[test]
    fn long_standing_conditions_in_the_perfect() {
        assert_eq!(
            values("I've had gout for about five years, flares every few months."),
            vec!["Gout"]
        );
    }

    #[test]
    fn borderline_readings() {
        assert_eq!(
            values("GP says my blood pressure is borderline high."),
            vec!["High blood pressure"]
        );
    }
}
