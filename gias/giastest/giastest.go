// Package giastest makes GIAS-shaped establishment files for tests and
// benchmarks: the register's 139 columns (in its order, or shuffled as a
// new release may), Windows-1252 text with accents and curly apostrophes,
// open, closed and proposed establishments in several local authorities,
// websites written every way the register writes them, and, on request,
// malformed rows.
package giastest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Header is the register's header, as edubasealldata*.csv has it.
var Header = strings.Split("URN,LA (code),LA (name),EstablishmentNumber,EstablishmentName,TypeOfEstablishment (code),TypeOfEstablishment (name),"+
	"EstablishmentTypeGroup (code),EstablishmentTypeGroup (name),EstablishmentStatus (code),EstablishmentStatus (name),"+
	"ReasonEstablishmentOpened (code),ReasonEstablishmentOpened (name),OpenDate,ReasonEstablishmentClosed (code),"+
	"ReasonEstablishmentClosed (name),CloseDate,PhaseOfEducation (code),PhaseOfEducation (name),StatutoryLowAge,StatutoryHighAge,"+
	"Boarders (code),Boarders (name),NurseryProvision (name),OfficialSixthForm (code),OfficialSixthForm (name),Gender (code),"+
	"Gender (name),ReligiousCharacter (code),ReligiousCharacter (name),ReligiousEthos (name),Diocese (code),Diocese (name),"+
	"AdmissionsPolicy (code),AdmissionsPolicy (name),SchoolCapacity,SpecialClasses (code),SpecialClasses (name),CensusDate,"+
	"NumberOfPupils,NumberOfBoys,NumberOfGirls,PercentageFSM,TrustSchoolFlag (code),TrustSchoolFlag (name),Trusts (code),"+
	"Trusts (name),SchoolSponsorFlag (name),SchoolSponsors (name),FederationFlag (name),Federations (code),Federations (name),"+
	"UKPRN,FEHEIdentifier,FurtherEducationType (name),OfstedLastInsp,LastChangedDate,Street,Locality,Address3,Town,"+
	"County (name),Postcode,SchoolWebsite,TelephoneNum,HeadTitle (name),HeadFirstName,HeadLastName,HeadPreferredJobTitle,"+
	"BSOInspectorateName (name),InspectorateReport,DateOfLastInspectionVisit,NextInspectionVisit,TeenMoth (name),"+
	"TeenMothPlaces,CCF (name),SENPRU (name),EBD (name),PlacesPRU,FTProv (name),EdByOther (name),Section41Approved (name),"+
	"SEN1 (name),SEN2 (name),SEN3 (name),SEN4 (name),SEN5 (name),SEN6 (name),SEN7 (name),SEN8 (name),SEN9 (name),"+
	"SEN10 (name),SEN11 (name),SEN12 (name),SEN13 (name),TypeOfResourcedProvision (name),ResourcedProvisionOnRoll,"+
	"ResourcedProvisionCapacity,SenUnitOnRoll,SenUnitCapacity,GOR (code),GOR (name),DistrictAdministrative (code),"+
	"DistrictAdministrative (name),AdministrativeWard (code),AdministrativeWard (name),ParliamentaryConstituency (code),"+
	"ParliamentaryConstituency (name),UrbanRural (code),UrbanRural (name),GSSLACode (name),Easting,Northing,MSOA (name),"+
	"LSOA (name),InspectorateName (name),SENStat,SENNoStat,BoardingEstablishment (name),PropsName,PreviousLA (code),"+
	"PreviousLA (name),PreviousEstablishmentNumber,OfstedRating (name),RSCRegion (name),Country (name),UPRN,SiteName,"+
	"QABName (name),EstablishmentAccredited (name),QABReport,CHNumber,MSOA (code),LSOA (code),FSM,AccreditationExpiryDate", ",")

// Row is one establishment, by header name; columns it leaves out are
// filled with plausible filler.
type Row map[string]string

// Options shape a generated file.
type Options struct {
	// Open is how many open establishments ("Open", and one in ten "Open,
	// but proposed to close"); for every two of them one closed and, for
	// every twenty, one "Proposed to open" row is written too.
	Open int
	// LAs are the local authorities the rows are spread over; ["Kent"]
	// if none.
	LAs []string
	// Seed makes the file; the same options give the same file.
	Seed uint64
	// Shuffle puts the columns in another order, as a new release may.
	Shuffle bool
	// UTF8 writes UTF-8 (with a byte-order mark) instead of Windows-1252.
	UTF8 bool
	// Malformed rows (a broken quote, a row one field short) are mixed in.
	Malformed int
	// Extra rows are written first, as given.
	Extra []Row
}

// File is a generated register.
type File struct {
	Data []byte
	// Open are the open rows' URNs and names, in file order (Extra rows
	// included when open).
	Open []Row
	// Lines of the malformed rows.
	MalformedLines []int
}

var (
	dedications = []string{"St Mary's", "St Peter's", "St Mary’s", "Holy Trinity", "Christ Church", "All Saints'", "St John's", "St Peter & St Paul", "Our Lady of Lourdes", "St Thomas à Becket", "Sacred Heart"}
	stems       = []string{"Oak", "Ash", "Elm", "Kings", "Queens", "Marsh", "Bramble", "Hazel", "Willow", "Beech", "Thorn", "Holly", "Fern", "Brook", "Green", "Mill", "Church", "Castle", "Bridge", "Stone", "Wood", "Hill", "Lea", "Sand", "Chalk", "Bay", "Harbour", "Cliff", "Down", "Orchard", "Hop", "Cherry", "Apple", "Swan", "Heron", "Lark", "Wren", "Fox", "Badger", "Otter"}
	endings     = []string{"field", "mead", "wood", "gate", "den", "hurst", "ley", "ton", "bury", "combe", "ford", "well", "croft", "stead", "side", "view", "lands", "brook", "dale", "holme"}
	kinds       = []struct{ suffix, phase, typ string }{
		{"Primary School", "Primary", "Community school"},
		{"Church of England Primary School", "Primary", "Voluntary aided school"},
		{"CofE Primary School", "Primary", "Voluntary controlled school"},
		{"Community Primary School", "Primary", "Community school"},
		{"Infant School", "Primary", "Community school"},
		{"Junior School", "Primary", "Foundation school"},
		{"Catholic Primary School", "Primary", "Voluntary aided school"},
		{"Primary Academy", "Primary", "Academy converter"},
		{"Academy", "Secondary", "Academy sponsor led"},
		{"Grammar School", "Secondary", "Academy converter"},
		{"High School", "Secondary", "Community school"},
		{"School", "All-through", "Free schools"},
		{"School", "Not applicable", "Community special school"},
	}
	towns   = []string{"Folkestone", "Dover", "Canterbury", "Ashford", "Maidstone", "Margate", "Ramsgate", "Deal", "Hythe", "Whitstable", "Faversham", "Sittingbourne", "Sevenoaks", "Tonbridge", "Dartford", "Gravesend", "Broadstairs", "Herne Bay", "Tenterden", "Sandwich"}
	locals  = []string{"Cheriton", "Sandgate", "Hawkinge", "River", "Kearsney", "Sturry", "Bearsted", "Cliftonville", "Walmer", "Saltwood", "", "", ""}
	firsts  = []string{"Jane", "Amir", "Siobhán", "Chloë", "Tom", "Priya", "Zoë", "Kwame", "Renée", "David"}
	lasts   = []string{"Smith", "O’Brien", "Nowak", "Patel", "Jones", "Brontë", "Okafor", "Müller", "Evans", "Leclère"}
	titles  = []string{"Mrs", "Mr", "Ms", "Dr", "Miss", "Not applicable"}
	trusts  = []string{"", "", "", "THE KEMNAL ACADEMIES TRUST", "Diocese of Canterbury Academies Trust", "LEIGH ACADEMIES TRUST", "Swale Academies Trust"}
	letters = "ABDEFGHJLNPQRSTUWXYZ"
)

// Generate writes a GIAS-shaped file.
func Generate(o Options) File {
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	las := o.LAs
	if len(las) == 0 {
		las = []string{"Kent"}
	}
	order := make([]int, len(Header))
	for i := range order {
		order[i] = i
	}
	if o.Shuffle {
		// Its own generator: the rows do not change with the order.
		srng := rand.New(rand.NewPCG(o.Seed+1, 42))
		srng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	var buf bytes.Buffer
	if o.UTF8 {
		buf.WriteString("\xEF\xBB\xBF")
	}
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	frng := rand.New(rand.NewPCG(o.Seed+2, 7)) // filler: the rows do not change with the order
	var f File
	line := 1
	rec := make([]string, len(Header))
	write := func(r Row) {
		for i, c := range order {
			rec[i] = r[Header[c]]
			if rec[i] == "" {
				if _, set := r[Header[c]]; !set {
					rec[i] = filler(Header[c], frng)
				}
			}
		}
		if !o.UTF8 {
			for i, v := range rec {
				rec[i] = to1252(v)
			}
		}
		w.Write(rec)
		line++
	}
	head := make([]string, len(Header))
	for i, c := range order {
		head[i] = Header[c]
	}
	w.Write(head)
	for _, r := range o.Extra {
		if isOpen(r["EstablishmentStatus (name)"]) {
			f.Open = append(f.Open, r)
		}
		write(r)
	}
	closed, proposed := 0, 0
	urn := 100000
	malformedEvery := 0
	if o.Malformed > 0 {
		malformedEvery = max(o.Open/o.Malformed, 1)
	}
	for i := 0; i < o.Open; i++ {
		urn += 1 + rng.IntN(5)
		r := school(rng, urn, las[i%len(las)])
		if i%10 == 9 {
			r["EstablishmentStatus (name)"] = "Open, but proposed to close"
		}
		f.Open = append(f.Open, r)
		write(r)
		if i%2 == 1 {
			urn++
			c := school(rng, urn, las[i%len(las)])
			c["EstablishmentStatus (name)"] = "Closed"
			c["CloseDate"] = "31-08-2019"
			write(c)
			closed++
		}
		if i%20 == 19 {
			urn++
			c := school(rng, urn, las[i%len(las)])
			c["EstablishmentStatus (name)"] = "Proposed to open"
			write(c)
			proposed++
		}
		if malformedEvery > 0 && i%malformedEvery == malformedEvery-1 && len(f.MalformedLines) < o.Malformed {
			w.Flush()
			line++
			f.MalformedLines = append(f.MalformedLines, line)
			if len(f.MalformedLines)%2 == 1 {
				fmt.Fprintf(&buf, "%d,886,Kent,2000,\"Broken \"Quote\" School,%s\r\n", urn+1, strings.Repeat(",", len(Header)-6))
			} else {
				fmt.Fprintf(&buf, "%d,886,Kent,2000,Short Row School\r\n", urn+1)
			}
			urn++
		}
	}
	w.Flush()
	f.Data = buf.Bytes()
	return f
}

func isOpen(s string) bool { return s == "Open" || s == "Open, but proposed to close" }

// school makes one plausible open establishment.
func school(rng *rand.Rand, urn int, la string) Row {
	k := kinds[rng.IntN(len(kinds))]
	town := towns[rng.IntN(len(towns))]
	var name string
	switch rng.IntN(4) {
	case 0:
		name = dedications[rng.IntN(len(dedications))] + " " + k.suffix
	case 1:
		name = town + " " + k.suffix
		if k.suffix == "School" {
			name = "The " + name
		}
	default:
		name = stems[rng.IntN(len(stems))] + endings[rng.IntN(len(endings))] + " " + k.suffix
	}
	slug := strings.ToLower(strings.NewReplacer(" ", "", "'", "", "’", "", "&", "and", "à", "a").Replace(name))
	slug = strconv.Itoa(urn) + "-" + slug[:min(len(slug), 20)]
	var site string
	switch rng.IntN(8) {
	case 0:
		site = ""
	case 1:
		site = "http://www." + slug + ".kent.sch.uk/"
	case 2:
		site = "https://" + slug + ".org.uk/home/index.html"
	case 3:
		site = "WWW." + strings.ToUpper(slug) + ".CO.UK"
	case 4:
		site = "www.shared-trust-site.org.uk/" + slug
	default:
		site = "www." + slug + ".kent.sch.uk"
	}
	pc := fmt.Sprintf("%c%c%d %d%c%c", letters[rng.IntN(len(letters))], letters[rng.IntN(len(letters))], 1+rng.IntN(20), rng.IntN(10), letters[rng.IntN(len(letters))], letters[rng.IntN(len(letters))])
	return Row{
		"URN": strconv.Itoa(urn), "LA (name)": la, "EstablishmentName": name,
		"EstablishmentStatus (name)": "Open", "TypeOfEstablishment (name)": k.typ, "PhaseOfEducation (name)": k.phase,
		"Street": strconv.Itoa(1+rng.IntN(200)) + " " + stems[rng.IntN(len(stems))] + " Road", "Locality": locals[rng.IntN(len(locals))],
		"Address3": "", "Town": town, "Postcode": pc, "SchoolWebsite": site, "Trusts (name)": trusts[rng.IntN(len(trusts))],
		"HeadTitle (name)": titles[rng.IntN(len(titles))], "HeadFirstName": firsts[rng.IntN(len(firsts))], "HeadLastName": lasts[rng.IntN(len(lasts))],
	}
}

// filler is a plausible value for a column schoolwatch does not read.
func filler(col string, rng *rand.Rand) string {
	switch {
	case strings.HasSuffix(col, "(code)"):
		return strconv.Itoa(rng.IntN(100))
	case strings.HasSuffix(col, "Date") || strings.HasPrefix(col, "Date"):
		return fmt.Sprintf("%02d-%02d-20%02d", 1+rng.IntN(28), 1+rng.IntN(12), rng.IntN(25))
	case strings.HasPrefix(col, "Number") || strings.HasSuffix(col, "Capacity") || col == "Easting" || col == "Northing" || col == "UPRN":
		return strconv.Itoa(rng.IntN(700000))
	case strings.HasPrefix(col, "SEN") || strings.HasSuffix(col, "Flag (name)"):
		return "Not applicable"
	}
	return "Not applicable"
}

// to1252 encodes s as Windows-1252; every character the generator uses
// has a code there.
func to1252(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			b, err := charmap.Windows1252.NewEncoder().String(s)
			if err != nil {
				panic(fmt.Sprintf("giastest: %q has no Windows-1252 encoding", s))
			}
			return b
		}
	}
	return s
}
