//! Where the user lives (a single-valued slot) and where they come from.

use super::{Category, Scan};
use crate::extract::guards::Polarity;
use crate::extract::phrases;

patterns! {
    LIVE = r"\b(?:i|we|and|but) (?:currently |now |still |also |both |all |no longer |do not |never |used to |)(?:live|am living|are living|reside|am based|are based|have lived|have been living|have been based|am settled|are settled|have settled|settled) (?:here )?(?:in|near|outside|just outside|on)\b";
    MOVED = r"\b(?:i|we|and|but|then) (?:just |recently |finally |have just |have |had |eventually |officially )?(?:moved|relocated|emigrated) (?:back |over |down |up |here )?(?:to|into)\b";
    MOVING = r"\b(?:i|we) (?:am|are) (?:officially |finally |actually )?(?:moving|relocating) (?:back |over )?to\b";
    BOUGHT_HOME = r"\b(?:i|we) (?:just |recently |finally |still )?(?:bought|rent|are renting|am renting|own) (?:(?:a|an|our|my) (?:first |new |little |small )?(?:house|home|flat|apartment|condo|place|cottage|townhouse) )?(?:in|near|outside)\b";
    LIVES = r"(?:^|, |\band )(?:now |currently |still )?lives (?:in|near)\b";
    BACK_HOME = r"\b(?:i am|we are|i have been|we have been)? ?(?:now |finally )?back (?:home )?(?:in|to)\b";
    WORKING_IN = r"(?:\bi|\band|,) (?:currently |now |also )?(?:work|am working|working|have been working) in\b";
    BASED = r"\bbased (?:in|out of)\b";
    LIVING = r"\bliving in\b";
    HERE_IN = r"\bhere in\b";
    MY_HOME = r"\b(?:my|our) (?:home|house|flat|apartment|place) (?:is )?in\b";
    FROM = r"\bi am (?:originally |actually |born and raised |)from\b";
    GREW_UP = r"\b(?:grew up|was raised|was born and raised|born and raised) (?:in|on)\b";
    BORN_IN = r"\bi was born in\b";
    HOME_TO = r"\b(?:going|go|went|flying|fly|heading|head|travelling|traveling|coming|driving|visiting) (?:back )?home to\b";
    HOMETOWN = r"\bmy home ?town (?:is |of )?";
}

pub fn find(scan: &mut Scan) {
    home(scan);
    origin(scan);
}

fn home(scan: &mut Scan) {
    if scan.transient {
        return;
    }
    let mut spots = Vec::new();
    for pattern in [&LIVE, &MOVED, &MOVING, &MY_HOME, &BOUGHT_HOME] {
        for hit in scan.hits(pattern) {
            // "… but moved to Lisbon": the subject carries over from an earlier "I".
            let carried = matches!(scan.s.lower(hit.start), "and" | "but" | "then");
            if !carried || subject_is_user(scan, hit.start) {
                spots.push((hit.start, hit.end));
            }
        }
    }
    for hit in scan.hits(&HERE_IN) {
        let visiting = [
            "visiting",
            "trip",
            "holiday",
            "vacation",
            "conference",
            "week",
            "weekend",
        ]
        .iter()
        .any(|w| scan.s.norm.split(' ').any(|t| t == *w));
        if !visiting {
            spots.push((hit.start, hit.end));
        }
    }
    // In a saved memory, "…, now lives in Uppsala" is the user.
    if scan.ctx.trusted {
        for hit in scan.hits(&LIVES) {
            if subject_is_user(scan, hit.start) {
                spots.push((hit.start, hit.end));
            }
        }
    }
    for pattern in [&BACK_HOME, &WORKING_IN] {
        for hit in scan.hits(pattern) {
            // Only a capitalised place: "working in Riyadh", not "working in retail".
            if subject_is_user(scan, hit.start) && scan.s.is_capitalised(hit.end) {
                spots.push((hit.start, hit.end));
            }
        }
    }
    for pattern in [&BASED, &LIVING] {
        for hit in scan.hits(pattern) {
            if subject_is_user(scan, hit.start) {
                spots.push((hit.start, hit.end));
            }
        }
    }
    for (start, end) in spots {
        if !scan.about_user(start) {
            continue;
        }
        let Some(place) = place_after(scan, end) else {
            continue;
        };
        let ended = match scan.polarity(start) {
            Polarity::Negated => continue,
            Polarity::Ended => true,
            Polarity::Affirmed => false,
        };
        scan.add(
            Category::Location,
            Some("home"),
            format!("Lives in {}", place.text),
            ended,
        );
    }
}

/// The place at token `i`, or after a short description of the dwelling ("in a flat
/// in Hackney", "on a farm in Iowa").
fn place_after(scan: &Scan, i: usize) -> Option<phrases::Phrase> {
    if let Some(place) = phrases::place_at(scan.s, i) {
        return Some(place);
    }
    if !matches!(scan.s.lower(i), "a" | "an" | "the") {
        return None;
    }
    (i + 1..i + 9)
        .take_while(|&k| scan.s.is_word(k) && !scan.s.is_capitalised(k))
        .filter(|&k| matches!(scan.s.lower(k), "in" | "near" | "outside"))
        .find_map(|k| phrases::place_at(scan.s, k + 1))
}

/// Whether the nearest subject before token `i` is the user: "I'm a nurse based in
/// Cork" yes, "my son Daisuke lives in…", "she is living in…" no.
pub fn subject_is_user(scan: &Scan, i: usize) -> bool {
    if (scan.ctx.trusted && i <= 1) || matches!(scan.s.lower(i), "i" | "we") {
        return true;
    }
    for k in (0..i).rev() {
        match scan.s.lower(k) {
            "i" | "me" | "we" => return true,
            "he" | "she" | "they" | "his" | "her" | "their" | "who" | "it" | "you" | "my"
            | "our" => {
                return false;
            }
            _ => {
                // "Daisuke lives…", "Ana is…": a name acting as a subject.
                let acts = matches!(
                    scan.s.lower(k + 1),
                    "is" | "was"
                        | "lives"
                        | "lived"
                        | "works"
                        | "worked"
                        | "has"
                        | "had"
                        | "moved"
                        | "grew"
                        | "'s"
                        | "says"
                        | "said"
                        | "wants"
                        | "loves"
                        | "likes"
                        | "will"
                );
                if acts && scan.s.is_capitalised(k) && phrases::name_at(scan.s, k, false).is_some()
                {
                    return false;
                }
            }
        }
    }
    scan.ctx.trusted
}

fn origin(scan: &mut Scan) {
    let rules: [(&super::Pattern, &str); 5] = [
        (&FROM, "From"),
        (&GREW_UP, "Grew up in"),
        (&BORN_IN, "Born in"),
        (&HOME_TO, "Hometown:"),
        (&HOMETOWN, "Hometown:"),
    ];
    for (pattern, lead) in rules {
        for hit in scan.hits(pattern) {
            if !scan.about_user(hit.start) {
                continue;
            }
            let by_user = scan.s.lower(hit.start) == "i"
                || pattern_needs_no_subject(lead)
                || subject_is_user(scan, hit.start);
            if !by_user || scan.polarity(hit.start) != Polarity::Affirmed {
                continue;
            }
            if let Some(place) = place_after(scan, hit.end) {
                scan.add(
                    Category::Location,
                    None,
                    format!("{lead} {}", place.text),
                    false,
                );
            }
        }
    }
}

fn pattern_needs_no_subject(lead: &str) -> bool {
    lead == "Hometown:"
}

#[cfg(test)]
mod tests {
    use super::super::tests::{facts, values};

    #[test]
    fn home() {
        assert_eq!(
            values("I live in Tampere with my two cats"),
            vec!["Lives in Tampere"]
        );
        assert_eq!(
            values("we just moved to Rotterdam last week"),
            vec!["Lives in Rotterdam"]
        );
        assert_eq!(
            values("Moving to Halifax in August!!"),
            vec!["Lives in Halifax"]
        );
        assert_eq!(
            values("I'm a potter based in Oaxaca"),
            vec!["Lives in Oaxaca", "Potter"]
        );
        assert_eq!(
            values("our small studio here in Valparaíso"),
            vec!["Lives in Valparaíso"]
        );
        assert_eq!(
            values("I live in a flat in Hackney and the boiler broke"),
            vec!["Lives in Hackney"]
        );
        assert_eq!(
            values("My wife and I just bought a house in Tartu!"),
            vec!["Lives in Tartu"]
        );
        let f = facts("I used to live in Madrid but moved to Lisbon in 2021.");
        assert_eq!(
            f.iter()
                .map(|f| (f.value.as_str(), f.ended))
                .collect::<Vec<_>>(),
            vec![("Lives in Madrid", true), ("Lives in Lisbon", false)]
        );
        assert!(values("i live in fear of spiders lol").is_empty());
        let f = facts("I live in Tampere");
        assert_eq!(f[0].slot, Some("home"));
    }

    #[test]
    fn home_guards() {
        // Hypothetical, question, transient, someone else, negated.
        assert!(values("If I lived in Lisbon, would I need a car?").is_empty());
        assert!(values("Should I move to Leeds?").is_empty());
        assert!(values("I'm living in Rome this week for a conference").is_empty());
        assert!(values("my brother lives in Perth").is_empty());
        assert!(values("she is living in Oslo now").is_empty());
        assert!(values("I don't live in Paris").is_empty());
        assert!(values("I'm in Paris this week").is_empty());
        let f = facts("I no longer live in Ghent");
        assert!(f[0].ended);
    }

    #[test]
    fn origin() {
        assert_eq!(values("I'm originally from Cork"), vec!["From Cork"]);
        assert_eq!(
            values("I grew up in Tromsø, so cold is fine"),
            vec!["Grew up in Tromsø"]
        );
        assert_eq!(
            values("Flying home to Gdańsk for Christmas"),
            vec!["Hometown: Gdańsk"]
        );
        assert!(values("my wife grew up in Kyiv").is_empty());
        assert_eq!(
            values("I grew up on a farm in Iowa"),
            vec!["Grew up in Iowa"]
        );
    }

    #[test]
    fn back_home_and_working_abroad() {
        assert_eq!(
            values("My contract ended and I'm back home in Cebu City now!"),
            vec!["Lives in Cebu City"]
        );
        assert_eq!(
            values("I'm a nurse working in Doha on a contract"),
            vec!["Nurse", "Lives in Doha"]
        );
        assert!(
            !values("I work in Excel all day")
                .iter()
                .any(|v| v.starts_with("Lives"))
        );
        assert!(values("my sister is back in Lima").is_empty());
    }

    #[test]
    fn renting() {
        assert_eq!(
            values("We rent in Brunswick though"),
            vec!["Lives in Brunswick"]
        );
    }

    #[test]
    fn lowercase_places_only_from_lowercase_writers() {
        assert!(values("I live in a small flat near the river").is_empty());
        assert_eq!(
            values("i live in a small flat near the river in leeds"),
            vec!["Lives in Leeds"]
        );
        assert_eq!(values("just moved to leeds lol"), vec!["Lives in Leeds"]);
    }
}
