//! The people and animals in the user's life, by name: "my wife Ana", "our dog
//! Pickles (beagle)", "my grandchildren Elsa and Viktor"; partner (a single-valued
//! slot), relationship status, and break-ups.
//!
//! Another person's traits stay theirs: "my wife Ana is a nurse" becomes
//! "Wife: Ana (nurse)", never the user's job; friends', colleagues' and neighbours'
//! details are not kept at all.

use super::{Category, Scan};
use crate::extract::guards::Polarity;
use crate::extract::lexicon::{PETS, RELATION_PLURALS, RELATIONS};
use crate::extract::phrases::{self, Phrase};

patterns! {
    POSSESSIVE = r"\b(?:my|our) ((?:(?:younger|older|little|big|baby|twin|eldest|oldest|youngest|middle|late|ex|ex-|step|new|dear|beloved|lovely|amazing|wonderful|adult|teenage|grown-up|grown|first|second|third|two|three|\d+-year-old|\d+yo) )*)(\S+(?: friend| in law)?)\b";
    HAVE_PET = r"\b(?:i|we) (?:have|got|adopted|own|rescued|also have) (?:a|an|one|two|three|another|\d) ((?:\S+ ){0,2}?\S+) (?:called|named) (\S+)";
    MARRIED_TO = r"\b(?:i am |i have been |i got |been |am |happily )?(married|engaged) to (?:my (?:girlfriend|boyfriend|partner|fiance|fiancé|fiancee|fiancée|gf|bf|love) )?(\S+)";
    PARTNER_IS = r"\b(?:my )?(wife|husband|partner|boyfriend|girlfriend|fiance|fiancé|fiancee|fiancée|spouse)(?: 's name)? is (?:named |called )?(\S+)";
    BROKE_UP = r"\b(\S+) and i (?:broke up|split up|split|separated|divorced|got divorced|ended things)\b";
    BROKE_UP_WITH = r"\bi (?:broke up with|split up with|split from|divorced|separated from) (\S+)";
    STATUS = r"\b(?:i am|we are) (?:now |happily |recently |newly |currently |officially |still )?(?:\d{2} , )?(married|engaged|single|divorced|separated|widowed|a widower|a widow|widower|widow)\b";
    DATING = r"\b(?:i am|i have been) (?:in a relationship with|dating|seeing|together with|living with my partner) (\S+)";
    COUNTED = r"\b(?:my|our|i have|we have|i have got|we have got|with|of) (?:(?:two|three|four|five|six|2|3|4|5|6|twin|grown|young|little|lovely) )?(\S+) (?:,|:|\(|are|named|called)";
    NEWBORN = r"\b(?:i|we) (?:just |recently |finally )?(?:had|welcomed) (?:a|our|my) (?:baby |little |new |beautiful |healthy )?(boy|girl|baby|son|daughter)\b(?: ,)?(?: named| called)?";
    GOT_STATUS = r"\b(?:i|we) (?:just |recently |finally )?got (married|engaged|divorced)\b";
    KIDS_COUNT = r"(?:\b(?:my|our|i have|we have|married with|mum of|mom of|dad of)|,) (one|two|three|four|five|six|2|3|4|5|6|twin) (kids|children|boys|girls|sons|daughters|kid|child)\b";
    PARENT_OF = r"\b(mom|mum|mother|dad|father|parent) of (one|two|three|four|five|six|[1-6])\b";
}

pub fn find(scan: &mut Scan) {
    if !scan.about_people() {
        return;
    }
    possessives(scan);
    counted(scan);
    named_pets(scan);
    appositives(scan);
    partners(scan);
    status(scan);
}

fn relation(word: &str) -> Option<(&'static str, bool)> {
    RELATIONS
        .iter()
        .find(|(w, _, _)| *w == word)
        .map(|(_, label, partner)| (*label, *partner))
}

fn pet(word: &str) -> Option<&'static str> {
    PETS.iter()
        .find(|(w, _)| *w == word)
        .map(|(_, label)| *label)
        // "sheepdog", "bulldog", "housecat"
        .or_else(|| (word.len() > 4 && word.ends_with("dog")).then_some("Dog"))
        .or_else(|| (word.len() > 4 && word.ends_with("cat") && word != "bobcat").then_some("Cat"))
}

fn plural(word: &str) -> Option<&'static str> {
    RELATION_PLURALS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, label)| *label)
}

/// "my wife Ana", "our dog Pickles (beagle)", "my kids Ada and Tom".
fn possessives(scan: &mut Scan) {
    for hit in scan.hits(&POSSESSIVE) {
        let (Some(mods), Some(word)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        let modifiers: Vec<String> = (mods.start..mods.end)
            .map(|k| scan.s.lower(k).to_owned())
            .collect();
        let mut modifiers = modifiers;
        let mut word_text = scan.s.span_text(word.start, word.end).to_lowercase();
        if let Some(rest) = word_text.strip_prefix("ex-") {
            word_text = rest.to_owned();
            modifiers.push("ex".to_owned());
        }
        let mut name_start = word.end;
        if scan.s.lower(name_start) == "," {
            name_start += 1;
        }
        if let Some((label, partner)) = relation(&word_text) {
            // "my brother Tomasz", "my brother is called Tomasz", "my brother's name is Tomasz".
            let name_start = name_start + naming_words(scan, name_start);
            let Some(name) = phrases::name_at(scan.s, name_start, false) else {
                continue;
            };
            add_relative(scan, label, partner, &modifiers, &name);
        } else if let Some(label) = plural(&word_text) {
            let names = name_list(scan, name_start);
            if names.len() >= 2 {
                scan.add(
                    Category::Family,
                    None,
                    format!("{label}: {}", names.join(", ")),
                    false,
                );
            }
        } else if let Some(label) = pet(&word_text) {
            if let Some(name) = phrases::name_at(scan.s, name_start, false) {
                let breed =
                    if label == "Dog" && !matches!(word_text.as_str(), "dog" | "puppy" | "pup") {
                        Some(word_text.clone())
                    } else {
                        parenthetical_kind(scan, name.end)
                    };
                add_pet(scan, label, &name.text, breed);
            } else if matches!(scan.s.lower(name_start), "called" | "named" | "is")
                && let Some(name) = phrases::name_at(
                    scan.s,
                    name_start + 1 + usize::from(scan.s.lower(name_start + 1) == "called"),
                    false,
                )
            {
                add_pet(scan, label, &name.text, None);
            }
        }
    }
}

/// How many tokens at `at` announce a name: "is called", "is named", "called",
/// "'s name is"; 0 when the name comes straight after the relation.
fn naming_words(scan: &Scan, at: usize) -> usize {
    let w = |k: usize| scan.s.lower(at + k);
    match (w(0), w(1), w(2)) {
        ("is" | "was", "called" | "named", _) => 2,
        ("called" | "named", _, _) => 1,
        ("'s", "name", "is") => 3,
        _ => 0,
    }
}

/// "two boys, Liam and Noah", "our kids are Emma (10) and Jack (7)", "I have two
/// cats, Mochi and Tofu", "we just had a baby boy, Oliver".
fn counted(scan: &mut Scan) {
    for hit in scan.hits(&COUNTED) {
        let Some(word) = hit.group(1) else { continue };
        if scan.handed_over(hit.start) {
            continue;
        }
        let word = scan.s.lower(word.start).to_owned();
        let names = name_list(scan, hit.end);
        if let Some(label) = plural(&word) {
            if names.len() >= 2 {
                scan.add(
                    Category::Family,
                    None,
                    format!("{label}: {}", names.join(", ")),
                    false,
                );
            }
        } else if let Some(label) = word.strip_suffix('s').and_then(pet) {
            for name in names {
                add_pet(scan, label, &name, None);
            }
        }
    }
    for hit in scan.hits(&NEWBORN) {
        let Some(kind) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) {
            continue;
        }
        let label = match scan.s.lower(kind.start) {
            "boy" | "son" => "Son",
            "girl" | "daughter" => "Daughter",
            _ => "Baby",
        };
        if let Some(name) = phrases::name_at(scan.s, hit.end, false) {
            scan.add(
                Category::Family,
                None,
                format!("{label}: {}", name.text),
                false,
            );
        }
    }
}

/// "I have a border collie named Kasper", "we adopted a kitten called Miso".
fn named_pets(scan: &mut Scan) {
    for hit in scan.hits(&HAVE_PET) {
        let (Some(kind), Some(who)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let words: Vec<String> = (kind.start..kind.end)
            .map(|k| scan.s.lower(k).to_owned())
            .collect();
        let Some((label, species_at)) = words.iter().enumerate().rev().find_map(|(n, w)| {
            pet(w.trim_end_matches('s'))
                .or_else(|| pet(w))
                .map(|l| (l, n))
        }) else {
            continue;
        };
        let Some(name) = phrases::name_at(scan.s, who.start, false) else {
            continue;
        };
        // "a border collie": the words before the species say which kind.
        let breed = words
            .get(..=species_at)
            .map(|w| w.join(" "))
            .filter(|b| b.contains(' ') || label != phrases::capitalise(b).as_str());
        add_pet(
            scan,
            label,
            &name.text,
            breed.filter(|b| b.as_str() != label.to_lowercase()),
        );
    }
}

fn add_pet(scan: &mut Scan, label: &str, name: &str, kind: Option<String>) {
    let value = match kind {
        Some(kind) => format!("{label}: {name} ({kind})"),
        None => format!("{label}: {name}"),
    };
    // "our cat Luna died last spring": a pet remembered, not a pet at home.
    let died = scan
        .s
        .norm
        .split(' ')
        .any(|w| matches!(w, "died" | "passed" | "euthanized" | "euthanised" | "lost"));
    scan.add(Category::Pets, None, value, died);
}

/// "(beagle, eats everything)" → "beagle": a one- or two-word description first in
/// the parentheses after a pet's name.
fn parenthetical_kind(scan: &Scan, i: usize) -> Option<String> {
    if scan.s.lower(i) != "(" {
        return None;
    }
    let mut end = i + 1;
    while end < scan.s.len() && scan.s.is_word(end) && end - i <= 3 {
        end += 1;
    }
    let words = end - (i + 1);
    let closes = matches!(scan.s.lower(end), "," | ")");
    let first = scan.s.lower(i + 1);
    let descriptive = !first.chars().any(|c| c.is_ascii_digit())
        && !matches!(
            first,
            "he" | "she" | "it" | "our" | "my" | "a" | "the" | "who" | "male" | "female"
        );
    (closes && (1..=2).contains(&words) && descriptive)
        .then(|| scan.s.span_text(i + 1, end).to_lowercase())
}

fn add_relative(scan: &mut Scan, label: &str, partner: bool, modifiers: &[String], name: &Phrase) {
    let late = modifiers.iter().any(|m| m == "late")
        || (name.end..name.end + 4).any(|k| {
            matches!(
                scan.s.lower(k),
                "died" | "passed" | "death" | "funeral" | "grave" | "memorial"
            )
        });
    let ex = modifiers.iter().any(|m| m == "ex" || m == "ex-");
    let label = if late {
        format!("Late {}", label.to_lowercase())
    } else if ex {
        format!("Ex-{}", label.to_lowercase())
    } else {
        label.to_owned()
    };
    let occupation =
        if scan.s.lower(name.end) == "is" && matches!(scan.s.lower(name.end + 1), "a" | "an") {
            phrases::role_at(scan.s, name.end + 1).map(|r| r.text)
        } else {
            None
        };
    let value = match occupation {
        Some(job) => format!("{label}: {} ({job})", name.text),
        None => format!("{label}: {}", name.text),
    };
    let slot = (partner && !late && !ex).then_some("partner");
    scan.add(Category::Family, slot, value, false);
}

/// "Ada (8) and Tom (5)", "Isla, Finn and Ruby".
fn name_list(scan: &Scan, mut i: usize) -> Vec<String> {
    let mut names = Vec::new();
    while let Some(name) = phrases::relative_name_at(scan.s, i) {
        names.push(name.text);
        i = name.end;
        // "Haruto 10, Yui 7": an age right after the name.
        if phrases::is_number_word(scan.s.lower(i)) {
            i += 1;
        }
        if scan.s.lower(i) == "(" {
            while i < scan.s.len() && scan.s.lower(i) != ")" {
                i += 1;
            }
            i += 1;
        }
        match scan.s.lower(i) {
            "," | "and" | "&" => i += 1,
            _ => break,
        }
        if scan.s.lower(i) == "and" {
            i += 1;
        }
    }
    names
}

/// "Farofa (our dog, a mutt…)", "Amaka, my wife,".
fn appositives(scan: &mut Scan) {
    for i in 0..scan.s.len() {
        if !scan.s.is_capitalised(i) || !matches!(scan.s.lower(i + 1), "(" | ",") {
            continue;
        }
        if !matches!(scan.s.lower(i + 2), "my" | "our") {
            continue;
        }
        let word = scan.s.lower(i + 3).to_owned();
        // "Daniel (my husband now!)"
        let closes = (i + 4..i + 7).any(|k| matches!(scan.s.lower(k), "," | ")" | "." | ""))
            && matches!(
                scan.s.lower(i + 4),
                "," | ")" | "." | "" | "now" | "!" | "of"
            );
        let Some(name) = phrases::name_at(scan.s, i, false) else {
            continue;
        };
        if name.end != i + 1 || !closes {
            continue;
        }
        if let Some(label) = pet(&word) {
            add_pet(scan, label, &name.text, None);
        } else if let Some((label, partner)) = relation(&word) {
            add_relative(scan, label, partner, &[], &name);
        }
    }
}

fn partners(scan: &mut Scan) {
    for hit in scan.hits(&MARRIED_TO) {
        let (Some(kind), Some(who)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        let by_user = scan.s.lower(hit.start) == "i"
            || super::places::subject_is_user(scan, hit.start)
            || scan.ctx.trusted;
        if !by_user || !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated
        {
            continue;
        }
        let Some(name) = phrases::name_at(scan.s, who.start, false) else {
            continue;
        };
        let label = if scan.s.lower(kind.start) == "married" {
            "Married to"
        } else {
            "Engaged to"
        };
        scan.add(
            Category::Family,
            Some("partner"),
            format!("{label}: {}", name.text),
            false,
        );
        let status = if label == "Married to" {
            "Married"
        } else {
            "Engaged"
        };
        scan.add(Category::Family, Some("relationship"), status, false);
    }
    for hit in scan.hits(&PARTNER_IS) {
        let (Some(kind), Some(who)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if hit.start > 0
            && !matches!(
                scan.s.lower(hit.start.saturating_sub(1)),
                "my" | "," | ";" | "and"
            )
            && scan.s.lower(hit.start) != "my"
        {
            continue;
        }
        if !scan.s.is_capitalised(who.start) {
            continue;
        }
        let word = scan.s.lower(kind.start).to_owned();
        if let (Some((label, _)), Some(name)) =
            (relation(&word), phrases::name_at(scan.s, who.start, false))
        {
            scan.add(
                Category::Family,
                Some("partner"),
                format!("{label}: {}", name.text),
                false,
            );
        }
    }
    // Dating someone, or no longer (the partner fact then ended).
    for (pattern, ended) in [(&DATING, false), (&BROKE_UP, true), (&BROKE_UP_WITH, true)] {
        for hit in scan.hits(pattern) {
            let Some(who) = hit.group(1) else { continue };
            if !scan.about_user(hit.start) || !scan.s.is_capitalised(who.start) {
                continue;
            }
            if let Some(name) = phrases::name_at(scan.s, who.start, false) {
                scan.add(
                    Category::Family,
                    Some("partner"),
                    format!("Partner: {}", name.text),
                    ended,
                );
            }
        }
    }
}

fn status(scan: &mut Scan) {
    for pattern in [&STATUS, &GOT_STATUS] {
        for hit in scan.hits(pattern) {
            let Some(g) = hit.group(1) else { continue };
            // "since I got divorced" is a fact even inside a longer story.
            if scan.handed_over(hit.start) || scan.polarity(hit.start) != Polarity::Affirmed {
                continue;
            }
            if scan.s.lower(g.end) == "to" {
                continue;
            }
            let status = match scan.s.span_text(g.start, g.end).as_str() {
                "a widower" | "a widow" | "widowed" | "widower" | "widow" => "Widowed".to_owned(),
                other => phrases::capitalise(other),
            };
            scan.add(Category::Family, Some("relationship"), status, false);
        }
    }
    for hit in scan.hits(&KIDS_COUNT) {
        let (Some(n), Some(kind)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        // ", two kids" only describes the writer of a profile ("Married, two kids.").
        if scan.handed_over(hit.start) || (scan.s.lower(hit.start) == "," && !scan.ctx.trusted) {
            continue;
        }
        let n = scan.s.lower(n.start).to_owned();
        let kind = scan.s.lower(kind.start).to_owned();
        let value = if n == "twin" {
            format!("Has twin {kind}")
        } else {
            format!("Has {n} {kind}")
        };
        scan.add(Category::Family, Some("children"), value, false);
    }
    for hit in scan.hits(&PARENT_OF) {
        let Some(n) = hit.group(2) else { continue };
        let by_user =
            scan.ctx.trusted || hit.start == 0 || scan.s.lower(hit.start.saturating_sub(1)) == "a";
        if by_user && scan.about_user(hit.start) {
            let n = scan.s.lower(n.start).to_owned();
            scan.add(
                Category::Family,
                Some("children"),
                format!("Parent of {n}"),
                false,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{facts, values};

    #[test]
    fn relatives_with_names() {
        assert_eq!(
            values("Plan a trip for me and my wife Ngozi"),
            vec!["Wife: Ngozi"]
        );
        assert_eq!(
            values("my younger sister Ilse is getting married"),
            vec!["Sister: Ilse"]
        );
        assert_eq!(
            values("My brother Tomasz is an accountant and will help"),
            vec!["Brother: Tomasz (accountant)"]
        );
        assert_eq!(
            values("christmas gift for my grandson teo, he loves trucks"),
            vec!["Grandson: Teo"]
        );
        assert_eq!(
            values("My grandchildren Alma (8) and Oskar (5) visit soon"),
            vec!["Grandchildren: Alma, Oskar"]
        );
        let f = facts("my husband Rafael works nights");
        assert_eq!(f[0].slot, Some("partner"));
        // Someone else's relatives are not the user's.
        assert!(
            values("My boyfriend Jonas's sister is a midwife")
                .iter()
                .all(|v| !v.contains("midwife"))
        );
        assert_eq!(
            values("My boyfriend Jonas's sister is a midwife"),
            vec!["Boyfriend: Jonas"]
        );
    }

    #[test]
    fn other_peoples_traits_stay_theirs() {
        assert!(values("my friend is a lawyer").is_empty());
        assert!(
            values("my sister-in-law Mira is vegan")
                .iter()
                .all(|v| !v.contains("egan"))
        );
        assert!(values("My colleague is a huge Celtic fan").is_empty());
        let v = values("My wife Ana is a nurse at St. Mary's");
        assert_eq!(v, vec!["Wife: Ana (nurse)"]);
    }

    #[test]
    fn pets() {
        assert_eq!(
            values("our dog Waffles (beagle, eats everything) ate a sock"),
            vec!["Dog: Waffles (beagle)"]
        );
        assert_eq!(values("my cat Miso (4 yrs) is sick"), vec!["Cat: Miso"]);
        assert_eq!(
            values("Churro (our dog, a rescue) chewed my shoes"),
            vec!["Dog: Churro"]
        );
        assert!(values("If we get a dog, is a Shiba good?").is_empty());
        assert_eq!(
            values("I have a border collie named Skye"),
            vec!["Dog: Skye (border collie)"]
        );
        assert_eq!(values("we adopted a cat called Nori"), vec!["Cat: Nori"]);
        assert_eq!(
            values("I have two cats, Mochi and Tofu."),
            vec!["Cat: Mochi", "Cat: Tofu"]
        );
        let f = facts("our cat Luna died last spring");
        assert!(f[0].ended);
        assert!(values("a cat who lives in a temple").is_empty());
    }

    #[test]
    fn partners_and_status() {
        assert!(
            values("I'm married to Idris and we live in Leeds")
                .contains(&"Married to: Idris".to_owned())
        );
        assert!(
            values("I got engaged to Selin last week").contains(&"Engaged to: Selin".to_owned())
        );
        assert_eq!(values("my husband is Colm."), vec!["Husband: Colm"]);
        let f = facts("Bruno and I broke up last month");
        assert_eq!(f[0].value, "Partner: Bruno");
        assert!(f[0].ended);
        assert!(
            values("I'm separated, the kids are with me every other week")
                .contains(&"Separated".to_owned())
        );
        assert!(values("she lives with me since I got divorced").contains(&"Divorced".to_owned()));
        assert!(values("I'm not married").is_empty());
        assert_eq!(values("our twin boys love lego"), vec!["Has twin boys"]);
        let v = values("I'm 34, married with two kids, and we live near Graz.");
        assert!(
            v.contains(&"Married".to_owned()) && v.contains(&"Has two kids".to_owned()),
            "{v:?}"
        );
        assert_eq!(
            values("I'm in a relationship with Priya"),
            vec!["Partner: Priya"]
        );
        assert_eq!(
            values("my bf Jake is a firefighter"),
            vec!["Boyfriend: Jake (firefighter)"]
        );
        assert_eq!(
            values("My ex-husband Tom lives in Florida now."),
            vec!["Ex-husband: Tom"]
        );
        assert!(
            values("I'm engaged to my girlfriend Aisha!").contains(&"Engaged to: Aisha".to_owned())
        );
        assert_eq!(
            values("I'm a single mom of two boys, Liam and Noah."),
            vec!["Sons: Liam, Noah", "Has two boys"]
        );
        assert_eq!(
            values("Our kids are Emma (10) and Jack (7)."),
            vec!["Children: Emma, Jack"]
        );
        assert_eq!(
            values("I've got three grandchildren: Ava, Leo and Mia."),
            vec!["Grandchildren: Ava, Leo, Mia"]
        );
        assert_eq!(
            values("We just had a baby boy, Oliver!"),
            vec!["Son: Oliver"]
        );
    }

    #[test]
    fn asides_and_one_word_statuses() {
        assert_eq!(
            values("Daniel (my husband now!) wants a puppy"),
            vec!["Husband: Daniel"]
        );
        assert_eq!(values("Widower."), Vec::<String>::new());
        let ctx = super::super::Context {
            trusted: true,
            ..super::super::Context::default()
        };
        let v: Vec<String> = super::super::tests::facts_in("Widower.", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(v, vec!["Widowed"]);
    }

    #[test]
    fn month_names_and_compound_pets() {
        assert_eq!(
            values("My girls, Ivy (6) and June (3), are fighting"),
            vec!["Daughters: Ivy, June"]
        );
        assert_eq!(
            values("Our sheepdog Bran is getting old"),
            vec!["Dog: Bran (sheepdog)"]
        );
        assert!(values("see you in June and July").is_empty());
    }

    #[test]
    fn children_with_bare_ages_and_couple_statuses() {
        let ctx = super::super::Context {
            trusted: true,
            ..super::super::Context::default()
        };
        let v: Vec<String> = super::super::tests::facts_in(
            "Mom in Osaka with 3 kids (Haruto 10, Yui 7, Sora 2).",
            ctx,
        )
        .into_iter()
        .map(|f| f.value)
        .collect();
        assert_eq!(v, vec!["Children: Haruto, Yui, Sora"]);
        assert_eq!(values("She said yes!! We're engaged."), vec!["Engaged"]);
    }
}
