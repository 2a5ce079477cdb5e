//! What the user does for fun, is building, wants, and prefers.

use super::places::subject_is_user;
use super::{Category, Scan};
use crate::extract::guards::Polarity;
use crate::extract::lexicon::{HOBBIES, TOOLS};
use crate::extract::phrases::{self, is_punct};

patterns! {
    PLAY = r"\bi (?:also |still |mostly |regularly |usually )?(play|have played|have been playing|used to play|love playing|enjoy playing|started playing|am playing|play a lot of)\b(?: (?:the|some|in|a lot of|competitive|amateur|club|pickup|pick-up)\b)*";
    INTO = r"\bi am (?:really |super |very |quite |totally |so |also |kind of |kinda )?(?:into|obsessed with|passionate about|keen on|hooked on|addicted to|a big fan of|a huge fan of|crazy about|mad about)\b";
    LEARNING_TO = r"\bi am (?:also |slowly |finally )?(?:learning|teaching myself) (?:how )?to (surf|swim|sail|ski|snowboard|skate|knit|crochet|sew|paint|draw|code|program|play|dance|sing|cook|bake|climb|ride|drive|fly|dive|row|box|juggle|skateboard|kitesurf|windsurf)\b";
    JOINED_CLUB = r"\bi (?:just |recently |also )?(?:joined|am in|am a member of|belong to|go to|attend|sing in|play in) (?:a|the|my|our|a local|the local) ((?:\S+ ){0,2}?)(club|choir|band|orchestra|society|league|group|troupe|ensemble)\b";
    TEMPERAMENT = r"\bi am (?:a |an )?(?:total |real |such a |definitely a |more of an? |very much an? )?(night owl|early bird|morning person|evening person|introvert|extrovert|ambivert)\b";
    ENJOY = r"\bi (?:really |absolutely |also )?(?:love|enjoy|like)\b";
    BEEN_DOING = r"\b(?:i have been|i have|i had been) (?:\S+ )?(\S+ing)\b";
    TOOK_UP = r"\bi (?:have |had )?(?:also )?(?:kept up|took up|picked up|got into|am getting back into|got back into|am back into|do|practice|practise|go|started|have started|have been doing|have been practicing|have been practising|am doing)\b(?: (?:some|a lot of|a bit of|basically|regular|weekly)\b)*";
    MY_THING = r"\b(\S+(?: \S+)?) (?:has been|is|was) (?:my|a big|my big|my favourite|my favorite) (?:thing|hobby|passion|obsession|outlet|escape|happy place)\b";
    MY_HOBBIES = r"\bmy (?:hobbies are|hobby is|main hobby is|favourite hobby is|favorite hobby is|passion is|hobbies include)\b";
    CLASS = r"\bi (?:go to|attend|take|do|have) (?:a |an |my |the |weekly |evening |night )?((?:\S+ ){0,2}?)(class|classes|lessons|club|practice|group|workshop)\b";
    HOBBY_VERB = r"\bi (?:also |still |regularly |usually )?(sing|dance|paint|draw|knit|sew|sculpt|swim|cycle|hike|climb|surf|ski|sail|row|garden|crochet|quilt|skate|meditate|volunteer|fish|bake|brew|run|coach|referee|umpire)\b";
    FAN = r"\b(?:i am|as) (?:a |an )?(?:(?:big|huge|massive|die-hard|diehard|lifelong|long-suffering|crazy|proud|loyal|passionate|mad|rabid|total) )*(\S+(?: \S+)?) (fan|supporter)\b";
    SUPPORT = r"\bi (?:support|follow|root for|cheer for) (\S+)";
    RACE = r"\bmy (?:second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|\d+(?:nd|rd|th)) (half marathon|marathon|ultra|ultramarathon|triathlon|ironman|10k|5k|half)\b";
    OUR_CLUB = r"\b(?:my|our) (book club|choir|church choir|band|running club|cycling club|chess club|knitting group|quiz team|d&d group|dnd group|sailing club|rowing club|hiking group|climbing gym|pottery class|reading group|writing group|orchestra|bowling team|darts team)\b";
    MAKE = r"\bi (?:make|produce|compose|record|create) ((?:\S+ ){0,2}?)(music|beats|songs|tracks|podcasts?|videos|films|art|comics|jewellery|jewelry|furniture|candles|pottery|quilts|cheese|wine|beer|cider|sourdough)\b";
    BUILDING = r"\b(?:i am|i have been|we are) (?:currently |slowly |also |finally |secretly )?(building|developing|making|writing|creating|working on|designing|launching|releasing|recording|renovating|restoring|producing|self-publishing|publishing|coding|starting)\b";
    SIDE_PROJECT = r"\bside project\b(?: is)?(?: :)?";
    MY_THING_NAMED = r"\bmy (game|app|podcast|band|channel|blog|startup|book|novel|ep|album|website|shop|brand|newsletter|plugin|bot|comic|zine|film|youtube channel|etsy shop|business|company|project|cookbook)(?: is)?(?: called| named)? (\S+)";
    AS_PROJECT_NAME = r"\bas (\S+) \( my (?:project|band|artist|stage|producer) name";
    DREAM = r"\b(?:my )?(?:dream|goal|ambition|plan|long-term goal|long term goal|big goal|aim|hope) (?:is|has always been) to\b";
    LONG_TERM = r"\b(?:long[- ]term|eventually|ultimately|in the future|in the long run|after (?:the|my) \S+|after graduating|after graduation|one day),? i (?:want|hope|plan|would like|would love|intend) to\b";
    WANT = r"\bi (?:really |also |eventually |ultimately )?(?:want|hope|plan|intend|aim|am planning|am hoping|am aiming|would like|would love|am trying|am saving up|am saving|am determined|am going) to (study|become|move|relocate|emigrate|open|start|launch|learn|get|do|work|switch|retire|buy|run|finish|write|publish|build|qualify|pass|apply|transition|pivot|go back|return|become|train|complete|earn|own|adopt|have)\b";
    PREPARING = r"\bi am (?:currently |now |also )?(applying|preparing|studying|saving|aiming|working towards|working toward|gearing up|training) (?:for|to)\b";
    AIMING = r"\b(?:aiming|hoping) for\b";
    PREFER = r"\bi (?:really |much |strongly |usually |always |generally |honestly |definitely |still )?prefer\b";
    PERSON = r"\bi am (?:(?:a|an|very much a|definitely a|totally a|more of a|such a) )(\S+(?: \S+)?) person\b";
    TEAM = r"\bi (?:am|play) (?:a |an |the )?(?:\S+ ){0,2}(?:in|on|for|with) (?:the|a|my|our) ((?:\S+ ){0,3}?)(team|club|squad|league|side)\b";
    USE_TOOL = r"\bi (?:mostly |mainly |primarily |usually |always |only |also |normally |basically )?(?:use|work in|code in|program in|write|develop in|build in|build with|work with|live in|swear by)\b";
}

pub fn find(scan: &mut Scan) {
    pastimes(scan);
    projects(scan);
    goals(scan);
    preferences(scan);
}

/// The longest hobby phrase starting at token `i`.
fn hobby_at(scan: &Scan, i: usize) -> Option<(String, usize)> {
    let mut best = None;
    let mut phrase = String::new();
    for n in 1..=3 {
        let w = scan.s.lower(i + n - 1);
        if w.is_empty() || is_punct(w) {
            break;
        }
        if n > 1 {
            phrase.push(' ');
        }
        phrase.push_str(w);
        if HOBBIES.contains(phrase.as_str()) {
            best = Some((scan.s.span_text(i, i + n), i + n));
        }
    }
    best
}

/// More hobbies listed after one: "hiking *and photography*", "chess, *go and poker*".
fn hobbies_after(scan: &Scan, mut i: usize) -> Vec<String> {
    let mut more = Vec::new();
    while matches!(scan.s.lower(i), "and" | "," | "&") {
        i += 1;
        if scan.s.lower(i) == "and" {
            i += 1;
        }
        match hobby_at(scan, i) {
            Some((hobby, end)) => {
                more.push(hobby);
                i = end;
            }
            None => break,
        }
    }
    more
}

/// A short prepositional tail worth keeping after a hobby: "in a ceilidh band",
/// "at the Forty Foot", "as libero in a Serie D team".
fn hobby_tail(scan: &Scan, i: usize) -> (String, usize) {
    let w = scan.s.lower(i);
    if !matches!(w, "in" | "at" | "as" | "on" | "for") {
        return (String::new(), i);
    }
    let mut end = i + 1;
    while end < scan.s.len()
        && end - i < 7
        && scan.s.is_word(end)
        && !matches!(
            scan.s.lower(end),
            "every"
                | "most"
                | "each"
                | "with"
                | "since"
                | "because"
                | "and"
                | "but"
                | "so"
                | "when"
                | "which"
                | "to"
                | "for"
                | "twice"
                | "once"
                | "i"
                | "it"
                | "is"
                | "on"
        )
    {
        end += 1;
    }
    if end <= i + 1 {
        return (String::new(), i);
    }
    // Only tails about a group or a place: "in a … band/team/club/choir", "at <Place>".
    let text = scan.s.span_text(i, end);
    let about_group = [
        "band",
        "team",
        "club",
        "choir",
        "orchestra",
        "league",
        "group",
        "ensemble",
        "crew",
    ]
    .iter()
    .any(|g| text.to_lowercase().split(' ').any(|t| t == *g));
    let at_place = w == "at" && scan.s.is_capitalised(i + 1)
        || w == "at" && scan.s.lower(i + 1) == "the" && scan.s.is_capitalised(i + 2);
    let as_role = w == "as";
    if about_group || at_place || as_role {
        (format!(" {}", phrases::third_person(&text)), end)
    } else {
        (String::new(), i)
    }
}

fn add_interest(scan: &mut Scan, value: String, ended: bool) {
    scan.add(Category::Interests, None, value, ended);
}

fn pastimes(scan: &mut Scan) {
    for hit in scan.hits(&PLAY) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let Some((hobby, end)) = hobby_at(scan, hit.end) else {
            continue;
        };
        let ended = match scan.polarity(hit.start) {
            Polarity::Negated => continue,
            Polarity::Ended => true,
            Polarity::Affirmed => verb == "used to play",
        };
        let (tail, end) = hobby_tail(scan, end);
        let (tail2, _) = hobby_tail(scan, end);
        add_interest(scan, format!("Plays {hobby}{tail}{tail2}"), ended);
    }
    for hit in scan.hits(&INTO) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        match hobby_at(scan, hit.end) {
            Some((hobby, end)) => {
                add_interest(scan, phrases::capitalise(&hobby), false);
                for more in hobbies_after(scan, end) {
                    add_interest(scan, phrases::capitalise(&more), false);
                }
            }
            // "I'm a big fan of Taylor Swift"
            None if scan.s.is_capitalised(hit.end) => {
                if let Some(name) = phrases::org_at(scan.s, hit.end) {
                    add_interest(scan, format!("Fan of {}", name.text), false);
                }
            }
            None => {}
        }
    }
    for hit in scan.hits(&ENJOY) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        if let Some((hobby, end)) = hobby_at(scan, hit.end) {
            // "I love cooking" but not "I love cooking shows" or "I like tea with…".
            let next = scan.s.lower(end);
            let ends = next.is_empty()
                || is_punct(next)
                || matches!(
                    next,
                    "and"
                        | "but"
                        | "so"
                        | "too"
                        | "on"
                        | "in"
                        | "at"
                        | "with"
                        | "since"
                        | "every"
                        | "lol"
                );
            if ends {
                add_interest(scan, phrases::capitalise(&hobby), false);
                for more in hobbies_after(scan, end) {
                    add_interest(scan, phrases::capitalise(&more), false);
                }
            }
        }
    }
    for hit in scan.hits(&LEARNING_TO) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        if let Some(what) = phrases::object_at(scan.s, g.start, 6) {
            add_interest(scan, format!("Learning to {}", what.text), false);
        }
    }
    for hit in scan.hits(&BEEN_DOING) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || scan.transient {
            continue;
        }
        // "I've been sea swimming …", "I have been doing crochet for years".
        let starts = [hit.end.saturating_sub(2), g.start, g.end];
        let found = starts
            .iter()
            .find_map(|&k| hobby_at(scan, k).filter(|(_, e)| *e >= g.end));
        match found {
            Some((hobby, end)) => {
                let (tail, _) = hobby_tail(scan, end);
                add_interest(scan, phrases::capitalise(&format!("{hobby}{tail}")), false);
            }
            None => {
                // "Been whittling for about 40 years": a pastime not in the list, kept
                // when it comes with a long duration.
                let gerund = scan.s.lower(g.start).to_owned();
                let for_years = matches!(scan.s.lower(g.end), "for" | "since")
                    && (g.end..g.end + 5).any(|k| {
                        matches!(
                            scan.s.lower(k),
                            "years"
                                | "decades"
                                | "school"
                                | "uni"
                                | "university"
                                | "college"
                                | "childhood"
                                | "forever"
                                | "ages"
                        )
                    });
                if for_years && !NOT_PASTIMES.contains(&gerund.as_str()) && gerund.len() > 5 {
                    add_interest(scan, phrases::capitalise(&gerund), false);
                }
            }
        }
    }
    for hit in scan.hits(&TOOK_UP) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        if let Some((hobby, end)) = hobby_at(scan, hit.end) {
            let (tail, _) = hobby_tail(scan, end);
            add_interest(scan, phrases::capitalise(&format!("{hobby}{tail}")), false);
        }
    }
    for hit in scan.hits(&MY_THING) {
        let Some(g) = hit.group(1) else { continue };
        if scan.handed_over(hit.start) {
            continue;
        }
        let found = hobby_at(scan, g.start).or_else(|| hobby_at(scan, g.start + 1));
        if let Some((hobby, _)) = found {
            add_interest(scan, phrases::capitalise(&hobby), false);
        }
    }
    for hit in scan.hits(&MY_HOBBIES) {
        if scan.handed_over(hit.start) {
            continue;
        }
        let mut k = hit.end;
        while k < scan.s.len() && !matches!(scan.s.lower(k), "." | ";" | "!" | "?") {
            let mut end = k;
            while end < scan.s.len()
                && !matches!(scan.s.lower(end), "," | "and" | "." | ";" | "!" | "?")
                && end - k < 4
            {
                end += 1;
            }
            if end > k {
                add_interest(scan, phrases::capitalise(&scan.s.span_text(k, end)), false);
            }
            k = end + 1;
        }
    }
    for hit in scan.hits(&CLASS) {
        let (Some(what), Some(kind)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if !scan.about_user(hit.start) || what.is_empty() {
            continue;
        }
        let subject = scan.s.span_text(what.start, what.end);
        let known = hobby_at(scan, what.start).is_some()
            || crate::extract::lexicon::language_at(&[scan.s.lower(what.start)]).is_some();
        if !known {
            continue;
        }
        let kind = scan.s.lower(kind.start).to_owned();
        let kind = if kind == "classes" {
            "class".to_owned()
        } else {
            kind
        };
        add_interest(
            scan,
            phrases::capitalise(&format!("{subject} {kind}")),
            false,
        );
    }
    for hit in scan.hits(&HOBBY_VERB) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let verb = scan.s.lower(g.start).to_owned();
        let mut end = g.end;
        while end < scan.s.len()
            && end - g.end < 7
            && scan.s.is_word(end)
            && !matches!(
                scan.s.lower(end),
                "and" | "but" | "so" | "because" | "when" | "which" | "i" | "to" | "for" | "if"
            )
        {
            end += 1;
        }
        let rest = scan.s.span_text(g.end, end);
        // A habit, not a one-off: said with a frequency anywhere in the sentence.
        const HABITUAL: &[&str] = &[
            "every",
            "most",
            "weekly",
            "daily",
            "regularly",
            "weekends",
            "each",
            "twice",
            "since",
            "choir",
            "band",
            "club",
            "team",
            "marathons",
            "ultras",
            "races",
            "often",
            "usually",
            "always",
            "whenever",
            "off",
            "sundays",
            "saturdays",
            "mornings",
            "evenings",
            "years",
            "religiously",
        ];
        let regular = scan.s.norm.split(' ').any(|t| HABITUAL.contains(&t));
        if !regular {
            continue;
        }
        let third = if ["ch", "sh", "s", "x", "z"]
            .iter()
            .any(|e| verb.ends_with(e))
        {
            format!("{}es", phrases::capitalise(&verb))
        } else {
            format!("{}s", phrases::capitalise(&verb))
        };
        let rest = trim_schedule(&phrases::third_person(&rest));
        add_interest(scan, format!("{third} {rest}").trim().to_owned(), false);
    }
    for hit in scan.hits(&FAN) {
        let (Some(team), Some(kind)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        let opens_clause = scan.s.lower(hit.start) != "as"
            || hit.start == 0
            || scan.s.text(hit.start) == "As"
            || matches!(scan.s.lower(hit.start - 1), "," | "(");
        if !opens_clause
            || !scan.about_user(hit.start)
            || scan.polarity(hit.start) == Polarity::Negated
        {
            continue;
        }
        let start = if scan.s.is_capitalised(team.start) || team.end - team.start == 1 {
            team.start
        } else {
            team.start + 1
        };
        if !(start..team.end).all(|k| scan.s.is_capitalised(k) || hobby_at(scan, k).is_some()) {
            continue;
        }
        let name = scan.s.span_text(start, team.end);
        let kind = scan.s.lower(kind.start).to_owned();
        add_interest(scan, format!("{name} {kind}"), false);
    }
    for hit in scan.hits(&TEAM) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let Some((sport, _)) = (g.start..g.end).find_map(|k| hobby_at(scan, k)) else {
            continue;
        };
        let detail = phrases::third_person(&scan.s.span_text(hit.start + 2, hit.end));
        add_interest(scan, format!("Plays {sport} ({detail})"), false);
    }
    for hit in scan.hits(&JOINED_CLUB) {
        let (Some(what), Some(kind)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        // "the chess club", "a community choir"; not "a WhatsApp group".
        let about_pastime = (what.start..what.end).any(|k| hobby_at(scan, k).is_some())
            || matches!(
                scan.s.lower(kind.start),
                "choir" | "orchestra" | "band" | "troupe" | "ensemble"
            )
            || (what.start..what.end).any(|k| {
                matches!(
                    scan.s.lower(k),
                    "book"
                        | "running"
                        | "hiking"
                        | "walking"
                        | "community"
                        | "church"
                        | "amateur"
                        | "local"
                        | "gospel"
                )
            });
        if !about_pastime {
            continue;
        }
        let club = scan.s.span_text(what.start, kind.end);
        add_interest(scan, format!("Member of a {club}"), false);
    }
    for hit in scan.hits(&SUPPORT) {
        if let Some(g) = hit.group(1)
            && scan.about_user(hit.start)
            && scan.s.is_capitalised(g.start)
            && let Some(team) = phrases::org_at(scan.s, g.start)
        {
            add_interest(scan, format!("Supports {}", team.text), false);
        }
    }
    for hit in scan.hits(&RACE) {
        let Some(g) = hit.group(1) else { continue };
        if scan.handed_over(hit.start) {
            continue;
        }
        let race = scan.s.span_text(g.start, g.end);
        let race = if race == "half" {
            "half marathon".to_owned()
        } else {
            race
        };
        add_interest(scan, format!("Runs {race}s"), false);
    }
    for hit in scan.hits(&OUR_CLUB) {
        let Some(g) = hit.group(1) else { continue };
        if scan.handed_over(hit.start) {
            continue;
        }
        let club = scan.s.span_text(g.start, g.end);
        let value = match club.as_str() {
            "band" => "Plays in a band".to_owned(),
            "choir" | "church choir" => format!("Sings in a {club}"),
            other => format!("Member of a {other}"),
        };
        add_interest(scan, value, false);
    }
    for hit in scan.hits(&MAKE) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let what = scan.s.span_text(hit.start + 2, hit.end);
        let verb = phrases::capitalise(scan.s.lower(hit.start + 1));
        let mut value = format!("{verb}s {}", phrases::third_person(&what));
        if scan.s.lower(hit.end) == "in" && scan.s.is_capitalised(hit.end + 1) {
            value.push_str(&format!(" in {}", scan.s.text(hit.end + 1)));
        }
        add_interest(scan, value, false);
    }
}

/// Gerunds that say how long something has been going on without being a pastime.
const NOT_PASTIMES: &[&str] = &[
    "working",
    "living",
    "feeling",
    "trying",
    "thinking",
    "using",
    "going",
    "getting",
    "having",
    "dealing",
    "struggling",
    "waiting",
    "looking",
    "suffering",
    "taking",
    "dating",
    "seeing",
    "learning",
    "studying",
    "teaching",
    "waking",
    "sleeping",
    "eating",
    "drinking",
    "smoking",
    "vaping",
    "coming",
    "putting",
    "paying",
    "saving",
    "renting",
    "commuting",
    "driving",
    "telling",
    "asking",
    "talking",
    "wondering",
    "planning",
    "hoping",
    "considering",
    "meaning",
    "married",
    "doing",
    "playing",
    "being",
    "staying",
    "caring",
    "nursing",
    "raising",
    "managing",
    "running",
    "owning",
    "selling",
    "buying",
    "freelancing",
    "contracting",
    "consulting",
    "volunteering",
    "coaching",
    "training",
    "practicing",
    "practising",
    "writing",
    "programming",
    "coding",
    "developing",
    "designing",
    "building",
    "leading",
    "teaching",
    "serving",
    "following",
    "watching",
    "ignoring",
    "avoiding",
    "missing",
    "losing",
    "gaining",
    "fighting",
    "recovering",
    "healing",
    "bleeding",
    "coughing",
    "vomiting",
    "hurting",
    "aching",
    "limping",
    "crying",
];

/// Drops "every Friday", "most weekends" from a hobby description.
fn trim_schedule(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let cut = words
        .iter()
        .position(|w| {
            matches!(
                *w,
                "every"
                    | "most"
                    | "each"
                    | "twice"
                    | "once"
                    | "on"
                    | "since"
                    | "weekly"
                    | "daily"
                    | "regularly"
            )
        })
        .unwrap_or(words.len());
    words[..cut].join(" ")
}

const PROJECT_NOUNS: &[&str] = &[
    "app",
    "website",
    "site",
    "plugin",
    "extension",
    "game",
    "book",
    "novel",
    "cookbook",
    "memoir",
    "thesis",
    "dissertation",
    "podcast",
    "channel",
    "blog",
    "startup",
    "business",
    "ep",
    "album",
    "single",
    "portfolio",
    "library",
    "tool",
    "bot",
    "newsletter",
    "course",
    "house",
    "boat",
    "garden",
    "film",
    "documentary",
    "comic",
    "zine",
    "screenplay",
    "platform",
    "saas",
    "product",
    "robot",
    "drone",
    "cabin",
    "shed",
    "van",
    "camper",
    "collection",
    "series",
    "brand",
    "shop",
    "store",
    "framework",
    "engine",
    "mod",
    "font",
    "typeface",
    "board",
    "clone",
    "dashboard",
    "api",
    "service",
    "keyboard",
    "synth",
    "guitar",
    "kayak",
    "canoe",
    "greenhouse",
    "treehouse",
    "family tree",
    "database",
    "model",
    "campaign",
    "exhibition",
    "mural",
    "quilt",
    "chatbot",
    "agent",
];

fn projects(scan: &mut Scan) {
    let side_project = scan.s.norm.contains("side project");
    for hit in scan.hits(&BUILDING) {
        if side_project
            || !scan.about_user(hit.start)
            || scan.polarity(hit.start) == Polarity::Negated
        {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let Some(what) = phrases::object_at(scan.s, hit.end, 14) else {
            continue;
        };
        let head: Vec<&str> = (hit.end..what.end.min(hit.end + 5))
            .map(|k| scan.s.lower(k))
            .collect();
        if !head.iter().any(|w| PROJECT_NOUNS.contains(w)) {
            continue;
        }
        let what = cut_at_parenthesis(&what.text);
        scan.add(
            Category::Projects,
            None,
            format!("{} {what}", phrases::capitalise(&verb)),
            false,
        );
    }
    for hit in scan.hits(&SIDE_PROJECT) {
        if scan.handed_over(hit.start) {
            continue;
        }
        let mut k = hit.end;
        // "Side project: I'm building a …"
        while matches!(
            scan.s.lower(k),
            "i" | "am"
                | "building"
                | "making"
                | "developing"
                | "working"
                | "on"
                | "writing"
                | "creating"
        ) {
            k += 1;
        }
        if let Some(what) = phrases::object_at(scan.s, k, 14) {
            scan.add(
                Category::Projects,
                None,
                format!("Side project: {}", cut_at_parenthesis(&what.text)),
                false,
            );
        }
    }
    for hit in scan.hits(&MY_THING_NAMED) {
        let (Some(kind), Some(name)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if scan.handed_over(hit.start) || !scan.s.is_capitalised(name.start) {
            continue;
        }
        let Some(title) = phrases::org_at(scan.s, name.start) else {
            continue;
        };
        // "my film Excel", "my book Paulo Paulo": a tool or a stutter is not a title.
        let words: Vec<String> = title
            .text
            .to_lowercase()
            .split(' ')
            .map(str::to_owned)
            .collect();
        let stutter = words.windows(2).any(|w| w.first() == w.get(1));
        if stutter || words.first().is_some_and(|w| TOOLS.contains(w.as_str())) {
            continue;
        }
        let kind = scan.s.span_text(kind.start, kind.end);
        let kind = if kind == "ep" {
            "EP".to_owned()
        } else {
            phrases::capitalise(&kind)
        };
        scan.add(
            Category::Projects,
            None,
            format!("{kind}: {}", title.text),
            false,
        );
    }
    for hit in scan.hits(&AS_PROJECT_NAME) {
        if let Some(g) = hit.group(1)
            && scan.s.is_capitalised(g.start)
        {
            let name = scan.s.text(g.start).to_owned();
            scan.add(
                Category::Projects,
                None,
                format!("Project name: {name}"),
                false,
            );
        }
    }
}

fn cut_at_parenthesis(text: &str) -> String {
    match text.find(" (") {
        Some(i) if i > 0 => text[..i].to_owned(),
        _ => text.to_owned(),
    }
}

fn goals(scan: &mut Scan) {
    for hit in scan.hits(&DREAM) {
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
        let by_user =
            scan.s.lower(hit.start) == "my" || subject_is_user(scan, hit.start) || scan.ctx.trusted;
        if let Some(what) = phrases::object_at(scan.s, hit.end, 14)
            && by_user
        {
            scan.add(Category::Goals, None, format!("Goal: {}", what.text), false);
        }
    }
    for pattern in [&LONG_TERM, &WANT] {
        for hit in scan.hits(pattern) {
            if scan.handed_over(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
                continue;
            }
            let at = (hit.start..hit.end)
                .find(|&k| scan.s.lower(k) == "i")
                .unwrap_or(hit.start);
            if !scan.about_user(at) {
                continue;
            }
            let start = match pattern_end_is_verb(scan, hit.end) {
                true => hit.end - 1,
                false => hit.end,
            };
            let Some(what) = phrases::object_at(scan.s, start, 14) else {
                continue;
            };
            if what.text.split(' ').count() < 2
                || what.text.starts_with("visit")
                || what.text.starts_with("check")
            {
                continue;
            }
            scan.add(
                Category::Goals,
                None,
                format!("Wants to {}", what.text),
                false,
            );
        }
    }
    for hit in scan.hits(&PREPARING) {
        let Some(verb) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let Some(what) = phrases::object_at(scan.s, hit.end, 12) else {
            continue;
        };
        let verb = phrases::capitalise(&scan.s.span_text(verb.start, verb.end));
        let prep = scan.s.lower(hit.end - 1);
        scan.add(
            Category::Goals,
            None,
            format!("{verb} {prep} {}", what.text),
            false,
        );
    }
    for hit in scan.hits(&AIMING) {
        if !scan.about_user(hit.start) || !scan.s.is_capitalised(hit.end) {
            continue;
        }
        if let Some(what) = phrases::object_at(scan.s, hit.end, 6) {
            scan.add(
                Category::Goals,
                None,
                format!("Aiming for {}", what.text),
                false,
            );
        }
    }
}

/// WANT's last group is the verb; the object starts at it.
fn pattern_end_is_verb(scan: &Scan, end: usize) -> bool {
    end > 0 && scan.s.lower(end - 1) != "to"
}

fn preferences(scan: &mut Scan) {
    for hit in scan.hits(&TEMPERAMENT) {
        if let Some(g) = hit.group(1)
            && scan.about_user(hit.start)
            && scan.polarity(hit.start) == Polarity::Affirmed
        {
            let what = phrases::capitalise(&scan.s.span_text(g.start, g.end));
            scan.add(Category::Preferences, None, what, false);
        }
    }
    for hit in scan.hits(&PREFER) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        if let Some(what) = phrases::object_at(scan.s, hit.end, 10)
            && what.text.split(' ').count() >= 1
            && !matches!(what.text.as_str(), "it" | "that" | "this" | "not to")
        {
            scan.add(
                Category::Preferences,
                None,
                format!("Prefers {}", what.text),
                false,
            );
        }
    }
    for hit in scan.hits(&PERSON) {
        let Some(g) = hit.group(1) else { continue };
        if !scan.about_user(hit.start) {
            continue;
        }
        let what = scan.s.span_text(g.start, g.end);
        let value = match scan.polarity(hit.start) {
            Polarity::Negated => format!("Not a {what} person"),
            _ => format!("A {what} person"),
        };
        scan.add(Category::Preferences, None, value, false);
    }
    for hit in scan.hits(&USE_TOOL) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let mut tools = Vec::new();
        let mut k = hit.end;
        while let Some((tool, end)) = tool_at(scan, k) {
            tools.push(tool);
            k = end;
            if matches!(scan.s.lower(k), "," | "and" | "&" | "or") {
                k += 1;
                if scan.s.lower(k) == "and" {
                    k += 1;
                }
            } else {
                break;
            }
        }
        if tools.is_empty() {
            continue;
        }
        let mut value = format!("Uses {}", tools.join(", "));
        if scan.s.lower(k) == "for"
            && let Some(purpose) = phrases::object_at(scan.s, k + 1, 6)
        {
            value.push_str(&format!(" for {}", purpose.text));
        }
        scan.add(Category::Preferences, None, value, false);
    }
}

/// A tool or programming language at token `i` ("Python", "Power BI", "C#"). Short
/// ambiguous names ("go", "r", "c") only count when written capitalised.
fn tool_at(scan: &Scan, i: usize) -> Option<(String, usize)> {
    let two = format!("{} {}", scan.s.lower(i), scan.s.lower(i + 1));
    if TOOLS.contains(two.as_str()) {
        return Some((scan.s.span_text(i, i + 2), i + 2));
    }
    let one = scan.s.lower(i);
    if !TOOLS.contains(one) {
        return None;
    }
    let ambiguous = one.len() <= 2
        || matches!(
            one,
            "word"
                | "logic"
                | "spring"
                | "node"
                | "sheets"
                | "sketch"
                | "arch"
                | "mac"
                | "windows"
                | "slack"
                | "unity"
        );
    if ambiguous && !scan.s.is_capitalised(i) {
        return None;
    }
    Some((scan.s.text(i).to_owned(), i + 1))
}

#[cfg(test)]
mod tests {
    use super::super::tests::values;

    #[test]
    fn hobbies() {
        assert_eq!(
            values("I play fiddle in a wee ceilidh band with three pals"),
            vec!["Plays fiddle in a wee ceilidh band"]
        );
        assert_eq!(
            values("I play chess on lichess most nights"),
            vec!["Plays chess"]
        );
        assert_eq!(
            values("I've been bouldering for about 2 years, 3x a week"),
            vec!["Bouldering"]
        );
        assert_eq!(values("been surfing for a few years"), vec!["Surfing"]);
        assert_eq!(values("I've been doing crochet for years"), vec!["Crochet"]);
        assert_eq!(
            values("woodworking has been my thing since I stopped working"),
            vec!["Woodworking"]
        );
        assert_eq!(
            values("I go to pottery class every Thursday"),
            vec!["Pottery class"]
        );
        assert_eq!(
            values("I sing alto in my church choir"),
            vec![
                "Sings alto in their church choir",
                "Sings in a church choir"
            ]
        );
        assert_eq!(
            values("As an Arsenal fan I need a comeback"),
            vec!["Arsenal fan"]
        );
        assert_eq!(
            values("it'll be my third half marathon"),
            vec!["Runs half marathons"]
        );
        assert_eq!(
            values("our book club wants a new pick"),
            vec!["Member of a book club"]
        );
        assert_eq!(
            values("Getting back into trail running after a break"),
            vec!["Trail running"]
        );
    }

    #[test]
    fn hobby_guards() {
        assert!(values("My manager is a die-hard Chelsea fan").is_empty());
        assert!(values("where can I play badminton?").is_empty());
        assert!(values("I've been feeling awful").is_empty());
        assert!(values("I don't play golf").is_empty());
        assert!(values("If I took up rowing would it help my back?").is_empty());
    }

    #[test]
    fn projects() {
        assert_eq!(
            values("Side project: I'm building a Figma plugin that checks colour contrast."),
            vec!["Side project: a Figma plugin that checks colour contrast"]
        );
        assert_eq!(
            values("making an EP as Kelpwave (my project name)"),
            vec!["Making an EP as Kelpwave", "Project name: Kelpwave"]
        );
        assert_eq!(
            values("My game Emberfall is a cozy puzzle adventure"),
            vec!["Game: Emberfall"]
        );
        assert!(values("I'm writing an email to my landlord").is_empty());
    }

    #[test]
    fn goals() {
        assert_eq!(
            values("My dream is to open my own studio in 2 years"),
            vec!["Goal: open their own studio in 2 years"]
        );
        assert_eq!(
            values("After the Abitur I want to study civil engineering at TU Graz"),
            vec!["Wants to study civil engineering at TU Graz"]
        );
        assert_eq!(
            values("I'm preparing for the CFA level 2 alongside work"),
            vec!["Preparing for the CFA level 2 alongside work"]
        );
        assert!(values("I want to check the meaning of the name").is_empty());
        assert!(values("Should I want to move to Oslo?").is_empty());
    }

    #[test]
    fn preferences() {
        assert_eq!(
            values("honestly I prefer doing everything in python"),
            vec!["Prefers doing everything in python"]
        );
        assert_eq!(values("I'm a python person"), vec!["A python person"]);
        assert_eq!(
            values("I use Python for hydraulic calcs"),
            vec!["Uses Python for hydraulic calcs"]
        );
        assert_eq!(
            values("I mostly write Go and Postgres"),
            vec!["Uses Go, Postgres"]
        );
        assert!(values("I go to the gym").is_empty());
    }

    #[test]
    fn lists_fans_teams_and_clubs() {
        assert_eq!(
            values("I love hiking and photography, and I'm learning to surf."),
            vec!["Hiking", "Photography", "Learning to surf"]
        );
        assert_eq!(
            values("I'm a big fan of Taylor Swift"),
            vec!["Fan of Taylor Swift"]
        );
        assert_eq!(
            values("i play goal defence for the uni netball team"),
            vec!["Plays netball (goal defence for the uni netball team)"]
        );
        assert_eq!(
            values("I joined the chess club in Lund, we meet on Tuesdays"),
            vec!["Member of a chess club"]
        );
        assert!(values("I joined a WhatsApp group for parents").is_empty());
        assert_eq!(
            values("I'm goalkeeper in the U19 water polo team"),
            vec!["Plays water polo (goalkeeper in the U19 water polo team)"]
        );
    }

    #[test]
    fn a_fan_clause_after_an_emoji() {
        assert_eq!(
            values("My boss is a massive Leeds fan 😂 As a Wolves fan I need a comeback"),
            vec!["Wolves fan"]
        );
    }

    #[test]
    fn long_running_pastimes_outside_the_list() {
        assert_eq!(
            values("Been whittling for about 40 years."),
            vec!["Whittling"]
        );
        assert!(values("I've been coughing for two years").is_empty());
        assert!(values("I've been working for years on this").is_empty());
    }

    #[test]
    fn coaching_a_team() {
        assert_eq!(
            values("I coach the under-12 hurling team in our parish on Saturdays."),
            vec!["Coaches the under-12 hurling team in their parish"]
        );
    }

    #[test]
    fn titles_are_not_tools() {
        assert!(values("I opened my film Excel sheet").is_empty());
        assert_eq!(
            values("my podcast Tidewater Talks is on Spotify"),
            vec!["Podcast: Tidewater Talks"]
        );
    }
}
