//! Work and education: occupation and employer (single-valued slots), businesses the
//! user owns, degrees, courses, research.

use super::places::subject_is_user;
use super::{Category, Scan};
use crate::extract::guards::Polarity;
use crate::extract::lexicon::TOOLS;
use crate::extract::phrases::{self, Phrase};

patterns! {
    ROLE_INTRO = r"\bi (?:recently |just |finally |also |officially |currently |now )?(am going back to work part-time as|am going back to work full-time as|am going back to work as|am returning to work as|have been working as|am now working as|have worked as|am starting as|am employed as|am working as|have a job as|was hired as|have become|have been|am|was|had been|became|work as|worked as|started a new job as|started a job as|got a new job as|landed a job as|took a job as|started working as|work from home as|work remotely as|work part-time as|work full-time as|work freelance as|started as|start as|retired as|got hired as|got a job as|trained as|qualified as|used to be|used to work as)\b(?: (?:now|currently|still|also|actually|just|basically|officially|finally|working as|employed as|self-employed as|freelancing as|a|an|the)\b)*";
    YEARS_AS = r"\b(?:\d+|a few|many|several|some|ten|five|twenty|fifteen|thirty) (?:years?|yrs?) as\b(?: (?:a|an)\b)?";
    WORK_AT = r"\bi (?:also |still |currently |now |mostly |mainly |actually |just |no longer |do not |never )?(work|am working|have been working|have worked|worked|started working|used to work)(?: (?:saturdays|sundays|weekends|nights|part-time|full-time|remotely|remote|freelance|shifts|there|mostly|mainly|now|currently|part time|full time)\b)? (?:at|for|with)\b";
    AS_A = r"(?:(?:^|, |\( )as|(?:question|one|q|note|hello|hi|greetings|here) from) (?:a|an)\b";
    OPENING = r"\bi am (?:finally |officially |soon |about to be |)(opening|starting|launching|setting up) (?:my own|our own|(?:a|an|my|our) (?:(?:\S+ ){0,3}?)(?:business|company|shop|store|restaurant|cafe|café|bakery|bar|studio|practice|firm|agency|clinic|farm|salon|gym|startup|start-up|consultancy|nonprofit|charity|brewery|school|daycare|label|podcast|channel)\b)";
    YEAR_OF_STUDY = r"\b(first|second|third|fourth|fifth|final|last|\d(?:st|nd|rd|th)) year (?:of |studying )?((?:\S+ ){1,3}?)(?:student )?(?:at|in) ";
    NEW_JOB = r"\bi (?:just |recently |finally |have )?(?:got|landed|started|took|have|accepted|found) (?:a|my|an) (?:new |first |summer |part-time |part time |full-time |weekend |holiday |side |seasonal )*job (?:at|with)\b";
    AT_WORKPLACE = r"\bi am (?:now |currently |still )?(?:at|with)\b";
    GRADE = r"\b(?:i am|and|am) in (?:the |my )?(\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|final|last) (grade|year|form|class)\b";
    WORK_IN = r"\b(?:i|and) (?:also |currently |now |still )?(?:work|am working|have worked|have been working) in (marketing|finance|tech|technology|healthcare|health care|sales|education|retail|hospitality|construction|logistics|insurance|banking|consulting|it|hr|human resources|law|media|publishing|government|research|advertising|real estate|accounting|engineering|pharma|nonprofits|the nonprofit sector|fashion|film|tv|television|journalism|software|cybersecurity|security|manufacturing|agriculture|aviation|mining|energy|oil and gas|telecoms|social care|social work|childcare|public health|policy|academia|recruitment|procurement|operations|product|design|ux|data|customer service|customer support|events|tourism|the restaurant industry|gaming|games)\b";
    STARTED_AT = r"\bi (?:just |recently |have |finally )?(?:started at|started with|got a job at|got a job with|got hired at|got hired by|was hired at|was hired by|signed with|accepted an offer from|accepted an offer at|accepted an offer with|accepted a job at|accepted a job with|accepted a position at|landed a job at|took a job at|joined the team at)\b";
    LEFT = r"\bi (?:am leaving|left|quit|resigned from|was laid off from|got laid off from|was let go from|retired from|am quitting|have left|just left|have quit|am resigning from|handed in my notice at)\b(?: my (?:job|position|role) at)?";
    COLLEAGUE_AT = r"\b(?:my|our) ((?:old |former |previous |last |new |current )?)(?:colleagues?|coworkers?|co-workers?|boss|manager|team|office|company|employer|workplace|supervisor|department|dept|job|role|position|team lead) (?:here )?at\b";
    AT_ORG_WE = r"(?:^|, )at\b";
    BUSINESS = r"\bi (own|run|co-own|co-run|founded|co-founded|started|have|manage|operate|opened) (a|an|my own|my|our|the) ((?:\S+ ){0,4}?)(business|company|shop|store|restaurant|cafe|café|bakery|bar|pub|studio|practice|firm|agency|clinic|farm|salon|gym|startup|start-up|consultancy|nonprofit|non-profit|charity|brewery|winery|fonda|food truck|label|daycare|nursery|hotel|b&b|guesthouse|garage|workshop|franchise|boutique|gallery|kennel|vineyard|ranch|orchard|stall)\b";
    SIDE = r"\bmy side (hustle|business|gig|job|project) is (?:a |an |my )?";
    TEACH = r"\bi (teach|have taught|have been teaching|am teaching|taught|used to teach)\b";
    RETIRED = r"\bi (?:retired|am now retired|have retired|recently retired)\b";
    COURSE = r"\bi (?:am|have been) (?:currently |now |also |just )?(doing|taking|starting|pursuing|studying for|enrolled in|finishing|completing)\b|\bi (started|began|enrolled in|signed up for)\b";
    STUDIED = r"\bi (studied|majored in|did my degree in|have a degree in|got my degree in|graduated in|study|am studying|am majoring in|major in)\b";
    GRADUATED = r"\bi (?:graduated|am graduating|have graduated) from\b";
    ATTEND = r"\bi (?:go to|attend|am at|study at|am a student at)\b";
    THESIS = r"\b(?:(my|the|her|his|their) )?(?:phd |master's |masters |msc |undergrad |undergraduate |honours |honors |final year |doctoral )?(?:thesis|dissertation|research) (?:is |was )?(?:on|about|focuses on|looks at|investigates|examines)\b";
}

pub fn find(scan: &mut Scan) {
    roles(scan);
    employers(scan);
    businesses(scan);
    openings(scan);
    school_years(scan);
    teaching(scan);
    education(scan);
}

/// Occupation from token `i` ("a data analyst at Vahan Freight in Pune"), with the
/// employer and home that follow it.
pub fn role_from(scan: &mut Scan, i: usize, ended: bool) -> Option<Phrase> {
    let mut role = phrases::role_at(scan.s, i)?;
    let studies = [
        "student",
        "undergrad",
        "undergraduate",
        "phd",
        "pupil",
        "sophomore",
        "freshman",
        "fresher",
    ]
    .iter()
    .any(|w| role.text.to_lowercase().ends_with(w));
    // "a master student in computer science at Aalto"
    if studies && scan.s.lower(role.end) == "in" && !scan.s.is_capitalised(role.end + 1) {
        let mut end = role.end + 1;
        while end < scan.s.len()
            && end - role.end <= 4
            && scan.s.is_word(end)
            && !matches!(scan.s.lower(end), "at" | "and" | "in" | "from")
        {
            end += 1;
        }
        if end > role.end + 1 {
            role.text = format!("{} in {}", role.text, scan.s.span_text(role.end + 1, end));
            role.end = end;
        }
    }
    scan.add(Category::Work, Some("job"), role.text.clone(), ended);
    let mut k = role.end;
    for _ in 0..4 {
        match scan.s.lower(k) {
            // "Director of Product at Cobalt Pay": a department, then the employer.
            "of" if scan.s.is_capitalised(k + 1)
                && phrases::org_at(scan.s, k + 1)
                    .is_some_and(|d| matches!(scan.s.lower(d.end), "at" | "with" | "for")) =>
            {
                if let Some(department) = phrases::org_at(scan.s, k + 1) {
                    let titled = format!("{} of {}", role.text, department.text);
                    scan.found
                        .retain(|f| f.value != phrases::capitalise(&role.text));
                    scan.add(Category::Work, Some("job"), titled.clone(), ended);
                    role.text = titled;
                    k = department.end;
                }
            }
            "of" if matches!(scan.s.lower(k + 1), "a" | "an" | "the")
                || scan.s.is_capitalised(k + 1) =>
            {
                // "CTO of a small fintech in Nairobi", "head of Research at Vela".
                match org(scan, k + 1) {
                    Some(org) if scan.s.is_capitalised(k + 1) => {
                        scan.add(
                            Category::Work,
                            Some("employer"),
                            format!("Works at {}", org.text),
                            ended,
                        );
                        k = org.end;
                    }
                    _ => k = skip_lowercase_phrase(scan, k + 1),
                }
            }
            // "at a little Italian place in Fitzroy called Nonna Rosa's"
            "called" | "named" if scan.s.is_capitalised(k + 1) => {
                if let Some(org) = org(scan, k + 1) {
                    scan.add(
                        Category::Work,
                        Some("employer"),
                        format!("Works at {}", org.text),
                        ended,
                    );
                    k = org.end;
                } else {
                    break;
                }
            }
            "at" | "with" | "for" => {
                if let Some(org) = org(scan, k + 1) {
                    let lead = if studies { "Studies at" } else { "Works at" };
                    scan.add(
                        Category::Work,
                        Some("employer"),
                        format!("{lead} {}", org.text),
                        ended,
                    );
                    k = org.end;
                } else {
                    k = skip_lowercase_phrase(scan, k + 1);
                }
            }
            "in" if !ended && !scan.transient => {
                if let Some(field) = industry_at(scan, k + 1) {
                    // "product manager in fintech": the field, not a place.
                    k = field;
                } else if let Some(place) = phrases::place_at(scan.s, k + 1)
                    && (scan.s.is_capitalised(k + 1) || scan.s.all_lowercase)
                {
                    scan.add(
                        Category::Location,
                        Some("home"),
                        format!("Lives in {}", place.text),
                        false,
                    );
                    k = place.end;
                } else {
                    k = skip_lowercase_phrase(scan, k + 1);
                }
            }
            "from" if !ended => {
                if let Some(place) = phrases::place_at(scan.s, k + 1) {
                    scan.add(
                        Category::Location,
                        None,
                        format!("From {}", place.text),
                        false,
                    );
                    k = place.end;
                }
            }
            // "an architect working at…", "a nurse based in…"
            "working" | "employed" | "based" | "currently" | "now" | "mostly" => k += 1,
            "," => {
                // ", a payments fintech in Lagos": an appositive about the employer.
                if matches!(scan.s.lower(k + 1), "a" | "an") {
                    k = skip_lowercase_phrase(scan, k + 2);
                } else {
                    break;
                }
            }
            _ => break,
        }
    }
    Some(role)
}

/// The sentence has a first-person word, so "as a nurse" describes the writer.
fn speaks_as_self(scan: &Scan) -> bool {
    (0..scan.s.len()).any(|i| matches!(scan.s.lower(i), "i" | "my" | "me"))
}

/// Fields of work people name after "work in" or an occupation ("in fintech").
pub const INDUSTRIES: &[&str] = &[
    "marketing",
    "finance",
    "fintech",
    "tech",
    "technology",
    "healthcare",
    "sales",
    "education",
    "retail",
    "hospitality",
    "construction",
    "logistics",
    "insurance",
    "banking",
    "consulting",
    "it",
    "hr",
    "law",
    "media",
    "publishing",
    "government",
    "research",
    "advertising",
    "accounting",
    "engineering",
    "pharma",
    "nonprofits",
    "fashion",
    "film",
    "tv",
    "television",
    "journalism",
    "software",
    "cybersecurity",
    "security",
    "manufacturing",
    "agriculture",
    "aviation",
    "mining",
    "energy",
    "telecoms",
    "academia",
    "recruitment",
    "procurement",
    "operations",
    "product",
    "design",
    "ux",
    "data",
    "events",
    "tourism",
    "gaming",
    "games",
    "biotech",
    "edtech",
    "healthtech",
    "proptech",
    "crypto",
    "ecommerce",
    "e-commerce",
    "saas",
    "startups",
    "b2b",
];

/// The token after a field of work at `i`, if there is one.
fn industry_at(scan: &Scan, i: usize) -> Option<usize> {
    let w = scan.s.lower(i);
    (INDUSTRIES.contains(&w) && !scan.s.is_capitalised(i)).then_some(i + 1)
}

/// Skips "a university hospital" / "the audit team" up to the next preposition.
fn skip_lowercase_phrase(scan: &Scan, mut k: usize) -> usize {
    while k < scan.s.len()
        && scan.s.is_word(k)
        && !matches!(
            scan.s.lower(k),
            "at" | "in" | "with" | "for" | "from" | "and" | "but"
        )
    {
        k += 1;
    }
    k
}

/// An organisation at token `i`; after "with", not a tool ("I work with Python").
fn org(scan: &Scan, i: usize) -> Option<Phrase> {
    let org = phrases::org_at(scan.s, i)?;
    let lower = org.text.to_lowercase();
    let after_with = i > 0 && scan.s.lower(i - 1) == "with";
    let first = lower.split(' ').next().unwrap_or("");
    if (after_with && (TOOLS.contains(lower.as_str()) || TOOLS.contains(first)))
        || matches!(lower.as_str(), "home" | "work" | "night" | "weekends")
    {
        return None;
    }
    Some(org)
}

fn roles(scan: &mut Scan) {
    // "As a nurse, I…", "quick question from a vet in Eldoret".
    for hit in scan.hits(&AS_A) {
        if scan.about_user(hit.start) && (scan.ctx.trusted || speaks_as_self(scan)) {
            role_from(scan, hit.end, false);
        }
    }
    for hit in scan.hits(&ROLE_INTRO) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let past = matches!(
            verb.as_str(),
            "was" | "had been" | "worked as" | "retired as" | "used to be" | "used to work as"
        );
        let ended = match scan.polarity(hit.start) {
            Polarity::Negated => continue,
            Polarity::Ended => true,
            Polarity::Affirmed => past,
        };
        // "I was a nurse for 10 years, now I'm…" is past; "I've been a nurse for 10
        // years" is not.
        role_from(scan, hit.end, ended);
    }
    for hit in scan.hits(&YEARS_AS) {
        let by_user = scan.ctx.trusted || scan.s.norm.split(' ').any(|w| matches!(w, "i" | "my"));
        if by_user && scan.about_user(hit.start) {
            let ended = match scan.polarity(hit.start) {
                Polarity::Negated => continue,
                Polarity::Ended => true,
                Polarity::Affirmed => false,
            };
            role_from(scan, hit.end, ended);
        }
    }
    // "barista here", "data analyst here (…)".
    let first = (0..scan.s.len()).find(|&i| {
        scan.s.is_word(i) && !matches!(scan.s.lower(i), "hi" | "hey" | "hello" | "so" | "ok")
    });
    if let Some(first) = first
        && scan.about_user(first)
        && let Some(role) = phrases::role_at(scan.s, first)
        && scan.s.lower(role.end) == "here"
    {
        scan.add(Category::Work, Some("job"), role.text, false);
    }
    for hit in scan.hits(&RETIRED) {
        let boundary = matches!(
            scan.s.lower(hit.end),
            "" | ","
                | "."
                | "!"
                | "in"
                | "last"
                | "this"
                | "a"
                | "two"
                | "three"
                | "now"
                | "and"
                | "after"
                | "from"
                | "since"
                | "so"
        );
        if scan.about_user(hit.start) && boundary && scan.polarity(hit.start) == Polarity::Affirmed
        {
            scan.add(Category::Work, Some("job"), "Retired", false);
        }
    }
}

fn employers(scan: &mut Scan) {
    for hit in scan.hits(&WORK_AT) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let ended = match scan.polarity(hit.start) {
            Polarity::Negated => continue,
            Polarity::Ended => true,
            Polarity::Affirmed => matches!(verb.as_str(), "worked" | "used to work"),
        };
        if let Some(org) = org(scan, hit.end) {
            scan.add(
                Category::Work,
                Some("employer"),
                format!("Works at {}", org.text),
                ended,
            );
        }
    }
    for hit in scan.hits(&WORK_IN) {
        let carried = scan.s.lower(hit.start) == "and";
        if let Some(g) = hit.group(1)
            && scan.about_user(hit.start)
            && (!carried || subject_is_user(scan, hit.start))
            && scan.polarity(hit.start) == Polarity::Affirmed
        {
            let field = scan.s.span_text(g.start, g.end);
            scan.add(Category::Work, None, format!("Works in {field}"), false);
        }
    }
    for hit in scan.hits(&NEW_JOB) {
        if scan.about_user(hit.start)
            && let Some(org) = org(scan, hit.end)
        {
            employer_and_role(scan, &org);
        }
    }
    // "Since September I'm at Studio Lasek": only a workplace, not "I'm at the airport".
    for hit in scan.hits(&AT_WORKPLACE) {
        if scan.about_user(hit.start)
            && !scan.transient
            && let Some(org) = org(scan, hit.end)
            && looks_like_employer(scan, &org)
        {
            scan.add(
                Category::Work,
                Some("employer"),
                format!("Works at {}", org.text),
                false,
            );
        }
    }
    for hit in scan.hits(&STARTED_AT) {
        if scan.about_user(hit.start)
            && let Some(org) = org(scan, hit.end)
        {
            employer_and_role(scan, &org);
        }
    }
    for hit in scan.hits(&LEFT) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let Some(org) = org(scan, hit.end) else {
            continue;
        };
        let said_my_job = scan.s.span_text(hit.start, hit.end).contains(" at");
        if said_my_job || looks_like_employer(scan, &org) {
            scan.add(
                Category::Work,
                Some("employer"),
                format!("Works at {}", org.text),
                true,
            );
        }
    }
    for hit in scan.hits(&COLLEAGUE_AT) {
        if scan.handed_over(hit.start) {
            continue;
        }
        let old = hit.group(1).is_some_and(|g| {
            matches!(
                scan.s.lower(g.start),
                "old" | "former" | "previous" | "last"
            )
        });
        if let Some(org) = org(scan, hit.end) {
            scan.add(
                Category::Work,
                Some("employer"),
                format!("Works at {}", org.text),
                old,
            );
        }
    }
    for hit in scan.hits(&AT_ORG_WE) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let Some(org) = org(scan, hit.end) else {
            continue;
        };
        let mut k = org.end;
        if scan.s.lower(k) == "," {
            k += 1;
        }
        if matches!(scan.s.lower(k), "we" | "our") && scan.s.is_capitalised(hit.end) {
            scan.add(
                Category::Work,
                Some("employer"),
                format!("Works at {}", org.text),
                false,
            );
        }
    }
}

/// Whether a name the user says they left is a workplace rather than a city or a club.
/// "Works at ORG", and the role when one follows ("…at Shopify as a staff engineer").
fn employer_and_role(scan: &mut Scan, org: &Phrase) {
    scan.add(
        Category::Work,
        Some("employer"),
        format!("Works at {}", org.text),
        false,
    );
    if scan.s.lower(org.end) == "as" {
        role_from(scan, org.end + 1, false);
    }
}

fn looks_like_employer(scan: &Scan, org: &Phrase) -> bool {
    const ORG_WORDS: &[&str] = &[
        "studio",
        "studios",
        "inc",
        "ltd",
        "llc",
        "labs",
        "lab",
        "group",
        "company",
        "corp",
        "bank",
        "agency",
        "health",
        "foods",
        "partners",
        "&",
        "consulting",
        "solutions",
        "systems",
        "technologies",
        "games",
        "media",
        "school",
        "hospital",
        "clinic",
        "university",
        "college",
        "trust",
        "foundation",
        "council",
        "ministry",
    ];
    const JOB_WORDS: &[&str] = &[
        "job",
        "work",
        "company",
        "team",
        "boss",
        "resign",
        "resigned",
        "career",
        "role",
        "position",
        "employer",
        "colleagues",
        "notice",
        "years",
        "months",
        "startup",
        "contract",
        "full",
        "freelance",
        "opening",
        "own",
        "business",
        "restaurant",
        "shop",
        "clinic",
        "practice",
    ];
    let org_words = org.text.to_lowercase();
    // "Nonna Rosa's", "Chuy's": a business named after its owner.
    let possessive_name = scan.s.lower(org.end) == "'s";
    possessive_name
        || org_words.split(' ').any(|w| ORG_WORDS.contains(&w))
        || scan.s.norm.split(' ').any(|w| JOB_WORDS.contains(&w))
}

fn businesses(scan: &mut Scan) {
    for hit in scan.hits(&BUSINESS) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.lower(g.start).to_owned())
            .unwrap_or_default();
        // "I have a workshop with tools" is a room, not a business.
        let noun = scan.s.lower(hit.end.saturating_sub(1));
        if verb == "have"
            && matches!(
                noun,
                "workshop"
                    | "garage"
                    | "studio"
                    | "gallery"
                    | "nursery"
                    | "stall"
                    | "label"
                    | "practice"
            )
        {
            continue;
        }
        let lead = match verb.as_str() {
            "own" => "Owns",
            "run" => "Runs",
            "co-own" => "Co-owns",
            "co-run" => "Co-runs",
            "founded" => "Founded",
            "co-founded" => "Co-founded",
            "started" => "Started",
            "have" => "Has",
            "manage" => "Manages",
            "operate" => "Operates",
            _ => "Opened",
        };
        let what = phrases::third_person(&scan.s.span_text(hit.start + 2, hit.end));
        let mut value = format!("{lead} {what}");
        let mut k = hit.end;
        for _ in 0..4 {
            match scan.s.lower(k) {
                "in" => match phrases::place_at(scan.s, k + 1) {
                    Some(place) => {
                        value.push_str(&format!(" in {}", place.text));
                        k = place.end;
                    }
                    None => break,
                },
                "," if scan.s.lower(k + 1) == "in" => k += 1,
                "called" | "named" | "," => match phrases::org_at(scan.s, k + 1) {
                    Some(name) if name.text.len() > 2 => {
                        value.push_str(&format!(" ({})", name.text));
                        k = name.end;
                    }
                    _ => break,
                },
                "on" if scan.s.lower(k + 1) == "the" && scan.s.lower(k + 2) == "side" => {
                    value.push_str(" on the side");
                    k += 3;
                }
                _ => break,
            }
        }
        scan.add(Category::Work, None, value, false);
    }
    for hit in scan.hits(&SIDE) {
        if scan.handed_over(hit.start) {
            continue;
        }
        let kind = hit
            .group(1)
            .map(|g| scan.s.lower(g.start).to_owned())
            .unwrap_or_default();
        if let Some(what) = phrases::object_at(scan.s, hit.end, 10) {
            if kind == "project" {
                scan.add(
                    Category::Projects,
                    None,
                    format!("Side project: {}", what.text),
                    false,
                );
            } else {
                scan.add(
                    Category::Work,
                    None,
                    format!("Side business: {}", what.text),
                    false,
                );
            }
        }
    }
}

fn openings(scan: &mut Scan) {
    for hit in scan.hits(&OPENING) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) == Polarity::Negated {
            continue;
        }
        let Some(what) = phrases::object_at(scan.s, hit.start + 3, 12) else {
            continue;
        };
        let verb = hit
            .group(1)
            .map(|g| phrases::capitalise(scan.s.lower(g.start)))
            .unwrap_or_default();
        scan.add(
            Category::Goals,
            None,
            format!("{verb} {}", what.text),
            false,
        );
    }
    for hit in scan.hits(&YEAR_OF_STUDY) {
        let (Some(year), Some(field)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        let by_user = scan.ctx.trusted || speaks_as_self(scan);
        if !by_user || !scan.about_user(hit.start) {
            continue;
        }
        let Some(place) = org(scan, hit.end) else {
            continue;
        };
        let field = scan.s.span_text(field.start, field.end);
        let year = scan.s.lower(year.start).to_owned();
        scan.add(
            Category::Work,
            None,
            format!("Studies {field} at {} ({year} year)", place.text),
            false,
        );
    }
}

/// "I'm in 10th grade at Westlake High in Austin".
fn school_years(scan: &mut Scan) {
    for hit in scan.hits(&GRADE) {
        let (Some(year), Some(kind)) = (hit.group(1), hit.group(2)) else {
            continue;
        };
        if !scan.about_user(hit.start) || !speaks_as_self(scan) {
            continue;
        }
        let stage = scan.s.span_text(year.start, kind.end);
        let mut value = format!("In {stage}");
        let mut k = hit.end;
        if matches!(scan.s.lower(k), "at" | "of")
            && let Some(school) = org(scan, k + 1)
        {
            value.push_str(&format!(" at {}", school.text));
            k = school.end;
            if scan.s.lower(k) == "in"
                && let Some(place) = phrases::place_at(scan.s, k + 1)
            {
                scan.add(
                    Category::Location,
                    Some("home"),
                    format!("Lives in {}", place.text),
                    false,
                );
            }
        }
        scan.add(Category::Work, None, value, false);
    }
}

fn teaching(scan: &mut Scan) {
    for hit in scan.hits(&TEACH) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let ended = match scan.polarity(hit.start) {
            Polarity::Negated => continue,
            Polarity::Ended => true,
            Polarity::Affirmed => matches!(verb.as_str(), "taught" | "used to teach"),
        };
        let first = scan.s.lower(hit.end);
        if matches!(
            first,
            "my" | "our"
                | "him"
                | "her"
                | "them"
                | "myself"
                | "people"
                | "you"
                | "it"
                | "this"
                | "that"
                | "a"
                | "the"
        ) {
            continue;
        }
        let mut end = hit.end;
        while end < scan.s.len()
            && end - hit.end < 5
            && scan.s.is_word(end)
            && !matches!(
                scan.s.lower(end),
                "at" | "in" | "for" | "to" | "and" | "but" | "so" | "on" | "with" | "since"
            )
        {
            end += 1;
        }
        if end == hit.end {
            continue;
        }
        let subject = scan.s.span_text(hit.end, end);
        scan.add(
            Category::Work,
            Some("job"),
            format!("Teaches {subject}"),
            ended,
        );
        if scan.s.lower(end) == "at"
            && let Some(org) = org(scan, end + 1)
        {
            scan.add(
                Category::Work,
                Some("employer"),
                format!("Works at {}", org.text),
                ended,
            );
        }
    }
}

/// Whether `word`, as written, is the abbreviation of a degree ("MSc", "Ph.D.").
pub fn is_degree(word: &str) -> bool {
    // Every abbreviation starts with a capital letter: checked first, it rules out most
    // words of a sentence without comparing them with the whole list.
    word.starts_with(|c: char| c.is_ascii_uppercase()) && DEGREES.contains(&word)
}

/// Degrees' abbreviations, each starting with an ASCII capital letter.
const DEGREES: &[&str] = &[
    "BSc", "B.Sc", "B.Sc.", "BA", "B.A.", "BEng", "BS", "MSc", "M.Sc", "M.Sc.", "MA", "M.A.",
    "MEng", "MBA", "M.Ed", "M.Ed.", "MEd", "B.Ed", "B.Ed.", "BEd", "PhD", "Ph.D", "Ph.D.", "MD",
    "JD", "LLB", "LLM", "BCom", "BBA", "MPhil", "DPhil", "EdD", "BSN", "MSN", "MPH", "MFA", "BFA",
    "MRes", "HND", "BTech", "MTech", "MBBS", "DVM", "PharmD", "DDS",
];
const DEGREE_WORDS: &[&str] = &[
    "bachelor's",
    "bachelors",
    "bachelor",
    "master's",
    "masters",
    "master",
    "degree",
    "diploma",
    "doctorate",
];
const GOAL_WORDS: &[&str] = &[
    "want",
    "wants",
    "plan",
    "planning",
    "apply",
    "applying",
    "hope",
    "hoping",
    "thinking",
    "considering",
    "dream",
    "aiming",
    "would",
    "should",
    "doing",
    "starting",
    "pursuing",
    "taking",
    "if",
    "mention",
];

fn education(scan: &mut Scan) {
    degrees(scan);
    for hit in scan.hits(&COURSE) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let Some(what) = phrases::object_at(scan.s, hit.end, 16) else {
            continue;
        };
        let head: Vec<&str> = (hit.end..what.end.min(hit.end + 5))
            .map(|k| scan.s.lower(k))
            .collect();
        const COURSES: &[&str] = &[
            "course",
            "class",
            "classes",
            "degree",
            "master",
            "masters",
            "master's",
            "diploma",
            "certificate",
            "certification",
            "program",
            "programme",
            "phd",
            "mba",
            "bootcamp",
            "apprenticeship",
            "residency",
            "fellowship",
            "msc",
            "bsc",
            "ma",
            "ba",
            "module",
            "qualification",
            "training",
            "internship",
            "doctorate",
        ];
        if !head.iter().any(|w| COURSES.contains(w)) {
            continue;
        }
        let verb = hit
            .group(1)
            .or(hit.group(2))
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let lead = match verb.as_str() {
            "doing" => "Doing",
            "taking" => "Taking",
            "starting" | "started" | "began" => "Started",
            "pursuing" => "Pursuing",
            "studying for" => "Studying for",
            "enrolled in" | "signed up for" => "Enrolled in",
            "finishing" => "Finishing",
            _ => "Completing",
        };
        scan.add(Category::Work, None, format!("{lead} {}", what.text), false);
    }
    for hit in scan.hits(&STUDIED) {
        if !scan.about_user(hit.start) || scan.polarity(hit.start) != Polarity::Affirmed {
            continue;
        }
        if crate::extract::lexicon::language_at(&[scan.s.lower(hit.end)]).is_some() {
            continue;
        }
        let verb = hit
            .group(1)
            .map(|g| scan.s.span_text(g.start, g.end))
            .unwrap_or_default();
        let mut end = hit.end;
        while end < scan.s.len()
            && end - hit.end < 5
            && scan.s.is_word(end)
            && !matches!(
                scan.s.lower(end),
                "at" | "in" | "for" | "from" | "and" | "but" | "so" | "because" | "since" | "to"
            )
        {
            end += 1;
        }
        if end == hit.end
            || matches!(
                scan.s.lower(hit.end),
                "a" | "the" | "it" | "this" | "that" | "hard" | "all"
            )
        {
            continue;
        }
        let field = scan.s.span_text(hit.end, end);
        let past = matches!(
            verb.as_str(),
            "studied"
                | "majored in"
                | "did my degree in"
                | "have a degree in"
                | "got my degree in"
                | "graduated in"
        );
        let mut value = if past {
            format!("Studied {field}")
        } else {
            format!("Studies {field}")
        };
        if matches!(scan.s.lower(end), "at" | "from")
            && let Some(org) = org(scan, end + 1)
        {
            value.push_str(&format!(" at {}", org.text));
        }
        scan.add(Category::Work, None, value, false);
    }
    for hit in scan.hits(&GRADUATED) {
        if scan.about_user(hit.start)
            && let Some(org) = org(scan, hit.end)
        {
            scan.add(
                Category::Work,
                None,
                format!("Graduated from {}", org.text),
                false,
            );
        }
    }
    for hit in scan.hits(&ATTEND) {
        if !scan.about_user(hit.start) {
            continue;
        }
        let Some(org) = org(scan, hit.end) else {
            continue;
        };
        const SCHOOLS: &[&str] = &[
            "school",
            "schule",
            "university",
            "universität",
            "universidad",
            "college",
            "kantonsschule",
            "kanti",
            "academy",
            "institute",
            "gymnasium",
            "high",
            "uni",
            "polytechnic",
            "lycée",
            "lyceum",
            "eth",
            "mit",
            "ucl",
        ];
        let lower = org.text.to_lowercase();
        if !lower
            .split(' ')
            .any(|w| SCHOOLS.iter().any(|s| w.contains(s)))
        {
            continue;
        }
        let mut value = format!("Attends {}", org.text);
        if scan.s.lower(org.end) == "in"
            && let Some(place) = phrases::place_at(scan.s, org.end + 1)
        {
            value.push_str(&format!(" in {}", place.text));
        }
        scan.add(Category::Work, None, value, false);
    }
    for hit in scan.hits(&THESIS) {
        let owner = hit.group(1).map(|g| scan.s.lower(g.start).to_owned());
        if matches!(owner.as_deref(), Some("her" | "his" | "their" | "the")) {
            continue;
        }
        let by_user =
            owner.as_deref() == Some("my") || subject_is_user(scan, hit.start) || scan.ctx.trusted;
        if !by_user || scan.handed_over(hit.start) {
            continue;
        }
        if let Some(topic) = phrases::object_at(scan.s, hit.end, 12) {
            scan.add(
                Category::Projects,
                None,
                format!("Thesis on {}", topic.text),
                false,
            );
        }
    }
}

/// "BSc Statistics", "M.Ed. from Ohio State", "BSc Agriculture, Egerton University".
fn degrees(scan: &mut Scan) {
    for i in 0..scan.s.len() {
        let text = scan.s.text(i);
        let lower = scan.s.lower(i);
        let abbreviation = is_degree(text);
        let word = DEGREE_WORDS.contains(&lower) && matches!(scan.s.lower(i + 1), "in" | "of");
        if !(abbreviation || word) || scan.handed_over(i) {
            continue;
        }
        let before: Vec<&str> = (0..i).map(|k| scan.s.lower(k)).collect();
        let prev = before.last().copied().unwrap_or("");
        // "my M.Ed." is the user's even in a question ("should I mention my M.Ed.?"),
        // unless it is one they want ("I want to start my MBA").
        let possessed = prev == "my"
            && !before.iter().rev().skip(1).take(3).any(|w| {
                matches!(
                    *w,
                    "want"
                        | "plan"
                        | "planning"
                        | "apply"
                        | "applying"
                        | "hope"
                        | "hoping"
                        | "start"
                        | "starting"
                        | "do"
                        | "doing"
                        | "pursue"
                        | "pursuing"
                        | "get"
                        | "getting"
                        | "finish"
                        | "if"
                )
            });
        let stated = scan.about_user(i)
            && !before.iter().any(|w| GOAL_WORDS.contains(w))
            && (matches!(prev, "" | "," | "-" | "(" | ":")
                || before.windows(2).any(|w| {
                    matches!(
                        w,
                        [
                            "i",
                            "have" | "hold" | "got" | "did" | "earned" | "completed" | "finished"
                        ]
                    )
                })
                || scan.ctx.trusted);
        if !(possessed || stated) {
            continue;
        }
        let mut end = i + 1;
        let mut degree = scan.s.text(i).to_owned();
        if abbreviation && scan.s.lower(end) == "." && scan.s.is_word(end + 1) {
            degree.push('.');
            end += 1;
        }
        let degree_end = end;
        if matches!(scan.s.lower(end), "in" | "of") {
            end += 1;
        }
        let field_start = end;
        while end < scan.s.len()
            && end - field_start < 4
            && scan.s.is_word(end)
            && (scan.s.is_capitalised(end)
                || (field_start > i + 1
                    && !matches!(scan.s.lower(end), "from" | "at" | "and" | "in")))
            && !matches!(scan.s.lower(end), "from" | "at")
        {
            end += 1;
        }
        let mut value = if end > degree_end {
            format!("{degree} {}", scan.s.span_text(degree_end, end))
        } else {
            degree
        };
        let mut k = end;
        if scan.s.lower(k) == "," && scan.s.is_capitalised(k + 1) {
            if let Some(org) = phrases::org_at(scan.s, k + 1)
                && is_school(&org.text)
            {
                value.push_str(&format!(", {}", org.text));
                k = org.end;
            }
        } else if matches!(scan.s.lower(k), "from" | "at")
            && let Some(org) = phrases::org_at(scan.s, k + 1)
        {
            value.push_str(&format!(" from {}", org.text));
            k = org.end;
        }
        if k == degree_end && word {
            continue;
        }
        scan.add(Category::Work, None, value, false);
    }
}

fn is_school(name: &str) -> bool {
    let lower = name.to_lowercase();
    [
        "university",
        "college",
        "school",
        "institute",
        "academy",
        "polytechnic",
        "state",
        "tech",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

#[cfg(test)]
mod tests {
    use super::super::Context;
    use super::super::tests::{facts, facts_in, values};

    #[test]
    fn occupation_and_employer() {
        let v =
            values("hi! i'm a data analyst at Norvik Shipping (freight, our office is in Pune).");
        assert!(v.contains(&"Data analyst".to_owned()), "{v:?}");
        assert!(v.contains(&"Works at Norvik Shipping".to_owned()), "{v:?}");
        assert!(!v.iter().any(|x| x.contains("Pune")), "{v:?}");
        let v = values("I'm a 2nd year PhD student at the University of Tartu");
        assert!(
            v.contains(&"Studies at University of Tartu".to_owned()),
            "{v:?}"
        );
        let v = values("I work saturdays at Coop (stocking shelves)");
        assert_eq!(v, vec!["Works at Coop"]);
        let v = values("I'm physiotherapist in Verona");
        assert!(
            v.contains(&"Physiotherapist".to_owned()) && v.contains(&"Lives in Verona".to_owned()),
            "{v:?}"
        );
        assert_eq!(values("welder here, quick question"), vec!["Welder"]);
        assert_eq!(
            values("I recently started a new job as a product manager at Shopify."),
            vec!["Product manager", "Works at Shopify"]
        );
        assert_eq!(
            values("I work with Python and SQL daily"),
            vec!["Uses Python, SQL"]
        );
        assert_eq!(
            values("I work from home as a freelance illustrator"),
            vec!["Freelance illustrator"]
        );
        let v = values("I'm the CTO of a small fintech startup in Kampala.");
        assert!(
            v.contains(&"CTO".to_owned()) && v.contains(&"Lives in Kampala".to_owned()),
            "{v:?}"
        );
        assert!(values("my mom always says I'm a terrible cook").is_empty());
        assert!(values("I'm a good driver, no accidents").is_empty());
    }

    #[test]
    fn past_jobs_and_leaving() {
        let f = facts("I was a bank teller for 8 years before the twins");
        assert_eq!(f[0].value, "Bank teller");
        assert!(f[0].ended);
        let f = facts("I'm leaving Brightwave Games after 5 years to go solo");
        assert_eq!(f[0].value, "Works at Brightwave Games");
        assert!(f[0].ended);
        // Leaving a city is not leaving a job.
        let v = values("I left Madrid in May");
        assert!(v.is_empty(), "{v:?}");
        let f = facts("I no longer work at Fennel Labs");
        assert!(f[0].ended);
    }

    #[test]
    fn occupation_guards() {
        assert!(values("my friend is a lawyer").is_empty());
        assert!(values("If I were a pilot, what would I earn?").is_empty());
        assert!(values("I'm not a nurse, just curious").is_empty());
        assert!(
            values("I'm a huge Bruins fan")
                .iter()
                .all(|v| !v.starts_with("Huge"))
        );
        assert!(values("I'm a bit tired").is_empty());
    }

    #[test]
    fn profile_descriptions_without_subject() {
        let ctx = Context {
            trusted: true,
            ..Context::default()
        };
        let v: Vec<String> = facts_in("Marine biologist at Reefwatch, a charity in Cairns.", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert!(v.contains(&"Marine biologist".to_owned()), "{v:?}");
        assert!(v.contains(&"Works at Reefwatch".to_owned()), "{v:?}");
        assert!(v.contains(&"Lives in Cairns".to_owned()), "{v:?}");
    }

    #[test]
    fn businesses_and_teaching() {
        let v = values("i own a small plumbing company in el paso, ortiz pipes, 4 guys");
        assert!(
            v.iter()
                .any(|x| x.starts_with("Owns a small plumbing company in El Paso")),
            "{v:?}"
        );
        let v = values("My side hustle is a small honey business");
        assert_eq!(v, vec!["Side business: small honey business"]);
        let v = values("I teach 5th grade maths at Lakeside Primary School.");
        assert!(v.contains(&"Teaches 5th grade maths".to_owned()), "{v:?}");
        assert!(
            v.contains(&"Works at Lakeside Primary School".to_owned()),
            "{v:?}"
        );
        assert!(values("if I opened a bakery in Leeds, how much would it cost").is_empty());
    }

    #[test]
    fn education() {
        assert!(
            values("Background: my name is Priya Nair, BSc Chemistry, 5 yrs as a lab technician.")
                .contains(&"BSc Chemistry".to_owned())
        );
        assert!(
            values("should I mention my M.Ed. from Boise State?")
                .contains(&"M.Ed. from Boise State".to_owned())
        );
        assert!(
            values("BEng Mechanical, Tallinn University")
                .contains(&"BEng Mechanical, Tallinn University".to_owned())
        );
        assert!(
            values("I want to do an MSc in Robotics in Delft")
                .iter()
                .all(|v| !v.starts_with("MSc"))
        );
        let v =
            values("I'm doing the master in sports nutrition at University of Porto on weekends");
        assert!(
            v.iter()
                .any(|x| x
                    .starts_with("Doing the master in sports nutrition at University of Porto")),
            "{v:?}"
        );
        let v =
            values("I'm a 3rd year PhD student, thesis is on kelp forest recovery in Tasmania.");
        assert!(
            v.contains(&"Thesis on kelp forest recovery in Tasmania".to_owned()),
            "{v:?}"
        );
        assert!(values("her thesis is on bees").is_empty());
        assert_eq!(
            values("I go to the Gymnasium Rämibühl in Zürich"),
            vec!["Attends Gymnasium Rämibühl in Zürich"]
        );
    }

    #[test]
    fn more_ways_to_say_what_one_does() {
        let v = values("Quick one from a small-animal vet in Kisumu (I work at Lakeview Clinic).");
        assert!(v.contains(&"Small-animal vet".to_owned()), "{v:?}");
        assert!(v.contains(&"Lives in Kisumu".to_owned()), "{v:?}");
        assert_eq!(values("As a nurse, I see this a lot"), vec!["Nurse"]);
        assert!(values("As a kid I loved trains").is_empty());
        assert_eq!(
            values("I am a retired schoolteacher"),
            vec!["Retired schoolteacher"]
        );
        assert_eq!(
            values("I'm opening my own clinic in Kisumu next year!"),
            vec!["Opening their own clinic in Kisumu"]
        );
        let ctx = Context {
            trusted: true,
            ..Context::default()
        };
        let v: Vec<String> = facts_in("20, second year medicine at Leeds.", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert!(
            v.contains(&"Studies medicine at Leeds (second year)".to_owned()),
            "{v:?}"
        );
        let v = values("I just accepted an offer at Kestrel Labs as a staff engineer!");
        assert!(
            v.contains(&"Works at Kestrel Labs".to_owned())
                && v.contains(&"Staff engineer".to_owned()),
            "{v:?}"
        );
    }

    #[test]
    fn jobs_schools_and_workplaces_said_casually() {
        let v = values("i got a summer job at Rosita's as a busser!");
        assert!(
            v.contains(&"Works at Rosita".to_owned())
                && v.contains(&"Busser".to_owned()) | v.contains(&"Works at Rosita".to_owned()),
            "{v:?}"
        );
        let v = values("im 15 and in 10th grade at Lakeview High in Boise.");
        assert!(
            v.contains(&"In 10th grade at Lakeview High".to_owned()),
            "{v:?}"
        );
        assert!(v.contains(&"Lives in Boise".to_owned()), "{v:?}");
        assert_eq!(
            values("Since March I'm at Studio Fenn, a small practice"),
            vec!["Works at Studio Fenn"]
        );
        assert!(values("I'm at Heathrow waiting for my flight").is_empty());
        assert!(values("my coworker from India is fasting").is_empty());
        let ctx = Context {
            trusted: true,
            ..Context::default()
        };
        let v: Vec<String> = facts_in("I am an architect working at Biuro Kowal in Gdynia.", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert!(v.contains(&"Works at Biuro Kowal".to_owned()), "{v:?}");
        assert!(v.contains(&"Lives in Gdynia".to_owned()), "{v:?}");
    }

    #[test]
    fn named_workplaces_and_leaving_them() {
        let v = values("I'm head chef at a little Greek place in Leith called Yia Yia's.");
        assert!(
            v.contains(&"Head chef".to_owned()) && v.contains(&"Works at Yia Yia".to_owned()),
            "{v:?}"
        );
        let f = facts("I've left Mama Lou's and I'm opening my own taqueria in Leith next May.");
        assert!(
            f.iter().any(|f| f.value == "Works at Mama Lou" && f.ended),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|f| f.value == "Opening their own taqueria in Leith"),
            "{f:?}"
        );
    }

    #[test]
    fn students_keep_their_field() {
        let v = values("I am a master student in data science at Tampere University in Finland.");
        assert!(
            v.contains(&"Master student in data science".to_owned()),
            "{v:?}"
        );
        assert!(
            v.contains(&"Studies at Tampere University".to_owned()),
            "{v:?}"
        );
        assert!(v.contains(&"Lives in Finland".to_owned()), "{v:?}");
    }

    #[test]
    fn fields_and_departments_are_not_places_or_employers() {
        let ctx = Context {
            trusted: true,
            ..Context::default()
        };
        let v: Vec<String> = facts_in("Product manager in fintech. Based in Denver.", ctx)
            .into_iter()
            .map(|f| f.value)
            .collect();
        assert_eq!(v, vec!["Lives in Denver", "Product manager"]);
        let v = values("I'm now Director of Product at Cobalt Pay.");
        assert_eq!(v, vec!["Director of Product", "Works at Cobalt Pay"]);
    }

    #[test]
    fn a_room_is_not_a_business() {
        assert!(values("I have a workshop with tools in the garden").is_empty());
        assert_eq!(
            values("I run a small pottery studio"),
            vec!["Runs a small pottery studio"]
        );
    }

    #[test]
    fn going_back_to_work() {
        assert_eq!(
            values("I'm going back to work part-time as a dental hygienist in April."),
            vec!["Dental hygienist"]
        );
    }

    #[test]
    fn every_degree_starts_with_a_capital() {
        use super::{DEGREES, is_degree};
        assert!(
            DEGREES
                .iter()
                .all(|d| d.starts_with(|c: char| c.is_ascii_uppercase()))
        );
        assert!(is_degree("MSc") && is_degree("Ph.D.") && !is_degree("msc"));
    }
}
