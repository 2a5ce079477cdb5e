//! Who the user is: name, age, pronouns, background.

use super::{Category, Scan};
use crate::extract::lexicon::DEMONYMS;
use crate::extract::phrases::{self, is_punct};

patterns! {
    MY_NAME = r"\bmy (?:full |real |first )?name (?:is|'s) (\S+)";
    I_AM = r"^(?:(?:hi|hello|hey|hiya|greetings|ok|okay|so)(?: there)? (?:[,!.] )?)?(?:i am|this is) (\S+)";
    CALLED = r"\b(?:everyone|everybody|people|friends|folks|most people|colleagues)(?: else)? (?:\S+ ){0,2}calls? me (\S+)";
    CALL_ME = r"(?:^|, |please |you can |just )call me (\S+)";
    GO_BY = r"\bi go by (\S+)";
    SIGN = r"\bsign(?:ed|ing)?(?: it| off| this| the (?:email|letter|message|card|note|mail|post))?(?: as| with| from)?(?: is)?(?: :)? (\S+)";
    SIGN_OFF = r"\bsign-off (?:is |as |: )?(\S+)";
    FROM_TO = r"\bfrom (\S+) to (?:my \S+ )?(\S+)";
    AGE = r"\bi am (\d{1,3})\b";
    BORN_YEAR = r"\bi was born in ((?:19|20)\d\d)\b";
    PRONOUNS = r"\b(she/her|he/him|they/them|she/they|he/they|they/she|they/he|xe/xem|ze/zir|ze/hir)(?:/\S+)?\b";
    BACKGROUND = r"\b(?:i am|we are both|we are all|as an?|i am half|i am proudly)(?: a| an)? (\S+)(?: (\S+))?";
}

pub fn find(scan: &mut Scan) {
    names(scan);
    sign_offs(scan);
    age(scan);
    pronouns(scan);
    background(scan);
}

fn add_name(scan: &mut Scan, name: &str) {
    scan.add(
        Category::Identity,
        Some("name"),
        format!("Name: {name}"),
        false,
    );
}

fn names(scan: &mut Scan) {
    for hit in scan.hits(&MY_NAME) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) {
            continue;
        }
        if let Some(name) = phrases::name_at(scan.s, g.start, true) {
            add_name(scan, &name.text);
            after_name(scan, name.end);
        }
    }
    for hit in scan.hits(&I_AM) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || !scan.s.is_capitalised(g.start) {
            continue;
        }
        let Some(name) = phrases::name_at(scan.s, g.start, true) else {
            continue;
        };
        let next = scan.s.lower(name.end);
        if matches!(
            next,
            "" | "," | "." | "!" | "(" | "and" | "here" | "from" | ";" | "-"
        ) {
            add_name(scan, &name.text);
            after_name(scan, name.end);
        }
    }
    for pattern in [&CALLED, &CALL_ME, &GO_BY] {
        for hit in scan.hits(pattern) {
            let Some(g) = hit.group(1) else { continue };
            if scan.handed_over(hit.start) || !scan.s.is_capitalised(g.start) {
                continue;
            }
            if let Some(name) = phrases::name_at(scan.s, g.start, false) {
                add_name(scan, &name.text);
            }
        }
    }
}

/// "I'm Ana, 34, a nurse at…": age and occupation right after a self-introduction.
fn after_name(scan: &mut Scan, mut i: usize) {
    if scan.s.lower(i) != "," {
        return;
    }
    i += 1;
    let maybe_age = scan.s.lower(i);
    if maybe_age.len() <= 3
        && maybe_age.chars().all(|c| c.is_ascii_digit())
        && matches!(scan.s.lower(i + 1), "," | "." | "")
    {
        if let Ok(age) = maybe_age.parse::<i32>() {
            add_age(scan, age);
        }
        i += 2;
    }
    super::work::role_from(scan, i, false);
}

/// Signatures the user asks for ("sign it Ray", "from Chinedu to Amaka" on a card)
/// name them even inside a letter or poem request.
fn sign_offs(scan: &mut Scan) {
    for pattern in [&SIGN, &SIGN_OFF] {
        for hit in scan.hits(pattern) {
            let Some(g) = hit.group(1) else { continue };
            if !scan.s.is_capitalised(g.start) {
                continue;
            }
            if let Some(name) = phrases::name_at(scan.s, g.start, true) {
                add_name(scan, &name.text);
            }
        }
    }
    // One pass over the words, not one per listed word.
    let card = scan.s.norm.split(' ').any(|t| {
        matches!(
            t,
            "note" | "card" | "letter" | "message" | "poem" | "gift" | "tag" | "pillow"
        )
    });
    if !card {
        return;
    }
    for hit in scan.hits(&FROM_TO) {
        let (Some(from), Some(to)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if !scan.s.is_capitalised(from.start) || !scan.s.is_capitalised(to.start) {
            continue;
        }
        if let Some(name) = phrases::name_at(scan.s, from.start, false) {
            add_name(scan, &name.text);
        }
    }
}

fn add_age(scan: &mut Scan, age: i32) {
    if !(13..=110).contains(&age) {
        return;
    }
    match scan.ctx.year {
        Some(year) => scan.add(
            Category::Identity,
            Some("birth_year"),
            format!("Born around {}", year - age),
            false,
        ),
        None => scan.add(
            Category::Identity,
            Some("birth_year"),
            format!("Age: {age}"),
            false,
        ),
    }
}

fn age(scan: &mut Scan) {
    for hit in scan.hits(&BORN_YEAR) {
        if let Some(g) = hit.group(1)
            && scan.about_user(hit.start)
        {
            let year = scan.s.lower(g.start).to_owned();
            scan.add(
                Category::Identity,
                Some("birth_year"),
                format!("Born in {year}"),
                false,
            );
        }
    }
    for hit in scan.hits(&AGE) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || scan.transient {
            continue;
        }
        let next = scan.s.lower(g.end);
        let years_old = next == "years" && scan.s.lower(g.end + 1) == "old";
        let bare = matches!(
            next,
            "" | ","
                | "."
                | "!"
                | "and"
                | "now"
                | "so"
                | "but"
                | "btw"
                | "lol"
                | "yo"
                | "y/o"
                | "("
                | "with"
                | ";"
        );
        if !(years_old || bare) {
            continue;
        }
        if let Ok(age) = scan.s.lower(g.start).parse::<i32>() {
            add_age(scan, age);
        }
    }
}

fn pronouns(scan: &mut Scan) {
    if scan.ctx.fiction || scan.ctx.roleplay {
        return;
    }
    // The pronouns first: most sentences have none, and the subject need not be read.
    let hits = scan.hits(&PRONOUNS);
    if hits.is_empty() {
        return;
    }
    let first_person = scan.ctx.trusted
        || scan.s.norm.contains("my pronouns")
        || scan.s.norm.split(' ').any(|w| w == "i");
    if !first_person {
        return;
    }
    for hit in hits {
        if let Some(g) = hit.group(1) {
            let text = scan.s.lower(g.start).to_owned();
            scan.add(
                Category::Identity,
                Some("pronouns"),
                format!("Pronouns: {text}"),
                false,
            );
        }
    }
}

fn background(scan: &mut Scan) {
    for hit in scan.hits(&BACKGROUND) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) {
            continue;
        }
        // "as a" only opens a clause: "As a Brazilian, I…".
        if scan.s.lower(hit.start) == "as" && hit.start > 0 && scan.s.lower(hit.start - 1) != "," {
            continue;
        }
        let one = scan.s.lower(g.start).to_owned();
        let two = format!("{one} {}", scan.s.lower(g.start + 1));
        let (word, end) = if DEMONYMS.contains(two.as_str()) {
            (two, g.start + 2)
        } else if DEMONYMS.contains(one.as_str()) {
            (one, g.start + 1)
        } else {
            continue;
        };
        let next = scan.s.lower(end);
        let ends_phrase = next.is_empty()
            || is_punct(next)
            || matches!(
                next,
                "and"
                    | "but"
                    | "so"
                    | "too"
                    | "myself"
                    | "by"
                    | "born"
                    | "living"
                    | "who"
                    | "here"
                    | "btw"
                    | "lol"
            );
        if !ends_phrase {
            continue;
        }
        let label = word
            .split(' ')
            .map(phrases::capitalise)
            .collect::<Vec<_>>()
            .join(" ");
        scan.add(
            Category::Identity,
            None,
            format!("Background: {label}"),
            false,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::Context;
    use super::super::tests::{facts_in, values};

    #[test]
    fn names_from_introductions_and_signatures() {
        assert!(
            values("My name is Oksana Petrenko and I need help")
                .contains(&"Name: Oksana Petrenko".to_owned())
        );
        assert!(values("Hi, I'm Tobiah, a welder from Hull.").contains(&"Name: Tobiah".to_owned()));
        assert!(
            values("sign it Marguerite Okafor, director")
                .contains(&"Name: Marguerite Okafor".to_owned())
        );
        assert!(values("Sign-off is Bea Lindgren btw").contains(&"Name: Bea Lindgren".to_owned()));
        assert!(
            values("leave a note on the pillow from Kwame to Efua")
                .contains(&"Name: Kwame".to_owned())
        );
        assert!(values("everyone at work calls me Benji").contains(&"Name: Benji".to_owned()));
        // Not names: states, nationalities, a sign-up.
        assert!(
            !values("I'm Tired, so keep it short")
                .iter()
                .any(|v| v.starts_with("Name"))
        );
        assert!(
            !values("I'm Canadian, eh")
                .iter()
                .any(|v| v.starts_with("Name"))
        );
        assert!(
            !values("how do I sign up for Strava")
                .iter()
                .any(|v| v.starts_with("Name"))
        );
    }

    #[test]
    fn age_becomes_a_birth_year() {
        let ctx = Context {
            year: Some(2024),
            ..Context::default()
        };
        let found: Vec<String> = facts_in("I'm 52 and new to running", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(found, vec!["Born around 1972".to_owned()]);
        let found: Vec<String> = facts_in("I'm Ines, 29, a dentist in Braga", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert!(found.contains(&"Born around 1995".to_owned()), "{found:?}");
        assert!(found.contains(&"Dentist".to_owned()), "{found:?}");
        assert!(
            values("I'm 30 weeks pregnant")
                .iter()
                .all(|v| !v.contains("Born"))
        );
    }

    #[test]
    fn pronouns_and_background() {
        assert!(values("I'm Sol (they/them), hi").contains(&"Pronouns: they/them".to_owned()));
        assert!(
            values("We're both Yoruba, so names matter").contains(&"Background: Yoruba".to_owned())
        );
        assert!(
            values("I'm Italian and I love coffee").contains(&"Background: Italian".to_owned())
        );
        assert!(values("I'm Italian food obsessed").is_empty());
        assert!(
            values("I'm a Brazilian living in Porto").contains(&"Background: Brazilian".to_owned())
        );
        assert_eq!(values("I was born in 1985."), vec!["Born in 1985"]);
        assert!(
            !values("I'm Deaf and use BSL")
                .iter()
                .any(|v| v.starts_with("Name"))
        );
    }
}
